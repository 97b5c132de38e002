import { IsIn, IsNotEmpty, IsString, Matches, ValidateIf } from 'class-validator';
import { BooleanFlag } from './boolean-flag.decorator';
import { IntRange } from './int-range.decorator';
import { IsServiceUrl, IsServiceUrlList } from './is-service-url.validator';
import { NotAbove } from './not-above.validator';
import { DATA_STREAM_PATTERN } from './data-streams';
import { RedisSettings } from './redis.settings';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Log lines: their level and context, shipping them to Elasticsearch, and reading them back as traces. One section of `AppConfig`, which callers use. */
export class LogSettings extends RedisSettings {
  /**
   * Elasticsearch receiving the log lines: one node's URL, or several nodes of one cluster
   * separated by commas; requests go round them, and skip one that fails.
   * Default: `http://127.0.0.1:9200`.
   * @see docs/elasticsearch-node.md#a-cluster-of-several-nodes
   */
  @IsServiceUrlList(
    ['http:', 'https:'],
    'http://127.0.0.1:9200',
    'http://10.0.0.1:9200,http://10.0.0.2:9200,http://10.0.0.3:9200',
  )
  ELASTICSEARCH_URL = 'http://127.0.0.1:9200';

  /**
   * The log data streams, named after Elastic's scheme: `logs-<name>-<namespace>`. Each source
   * writes to a stream of its own, `logs-<name>.api-<namespace>`, `.worker` and `.nginx`, with
   * `event.dataset` and `data_stream.*` to match. Default: `logs-threadline-default`.
   * @see docs/elasticsearch-layout.md
   */
  @Matches(DATA_STREAM_PATTERN, {
    message:
      'must be a data stream name like logs-<dataset>-<namespace>, lower case, e.g. logs-threadline-default',
  })
  LOG_DATA_STREAM = 'logs-threadline-default';

  /** How long log lines are kept (the data stream lifecycle's retention). Default: `7d`. */
  @Matches(/^\d+[dhm]$/, { message: 'must be a duration such as 7d, 36h or 90m' })
  LOG_RETENTION = '7d';

  /** Install or update the log index template when the API starts. Default: `true`. */
  @BooleanFlag()
  ES_SETUP_ON_START = true;

  /**
   * Ship log lines to Elasticsearch (besides stdout), through the on-disk spool. Turn off where
   * another shipper reads stdout. Default: `true`.
   */
  @BooleanFlag()
  LOG_SHIPPING = true;

  /**
   * Directory of the log spool, shared by the processes of a machine: lines wait here until
   * Elasticsearch has them, and a process that starts delivers what a stopped one left.
   * Default: `.log-spool` (in the working directory).
   */
  @IsString()
  @IsNotEmpty({ message: 'must be a directory path, e.g. LOG_SPOOL_DIR=/var/spool/threadline' })
  LOG_SPOOL_DIR = '.log-spool';

  /** Most bytes one process's spool holds; beyond it new lines are dropped and counted. Default: 256 MiB. */
  @IntRange(16384, Infinity, 'bytes')
  LOG_SPOOL_MAX_BYTES = 256 * 1024 * 1024;

  /**
   * Largest the dead-letter file (`LOG_SPOOL_DIR/dead-letter.ndjson`, the lines Elasticsearch
   * refused for good) grows; later refusals are counted and reported, not kept. Default: 16 MiB.
   */
  @IntRange(4096, Infinity, 'bytes')
  LOG_DEAD_LETTER_MAX_BYTES = 16 * 1024 * 1024;

  /** Largest `_bulk` request the shipper sends, in bytes. Default: 1 MiB. */
  @IntRange(1024, 100 * 1024 * 1024, 'bytes')
  LOG_SHIP_BULK_BYTES = 1024 * 1024;

  /** Longest a line waits for a fuller `_bulk` request, in ms. Default: `50`. */
  @IntRange(1, 60000, 'milliseconds')
  LOG_SHIP_FLUSH_MS = 50;

  /**
   * Kibana's address as users reach it, e.g. `http://localhost:5601`: task responses then link
   * to the task's lifecycle in Discover (`links.kibana`). Default: unset (no link).
   */
  @ValidateIf((config: LogSettings) => config.KIBANA_URL !== '')
  @IsServiceUrl(['http:', 'https:'], 'http://localhost:5601')
  KIBANA_URL = '';

  /** Lowest level written to the log. Default: `info`. */
  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: LogLevel = 'info';

  /**
   * How lines look on stdout: `json` (the ECS line, as shipped) or `pretty` (time, level,
   * service, short IDs and message, for a person). Elasticsearch and the spool always get the
   * JSON line. Default: unset, which is `pretty` when stdout is a terminal and `json` otherwise.
   * @see docs/logging.md#on-a-terminal
   */
  @ValidateIf((config: LogSettings) => config.LOG_FORMAT !== '')
  @IsIn(LOG_FORMATS, { message: `must be one of ${LOG_FORMATS.join(', ')}, e.g. LOG_FORMAT=json` })
  LOG_FORMAT: LogFormat | '' = '';

  /**
   * Any value turns colour off in pretty lines, as in the scripts' output (https://no-color.org).
   * Default: unset (colours on a terminal).
   */
  @IsString()
  NO_COLOR = '';

  /**
   * Stamp every log line with the flow context (request_id, correlation_id, task_id, trace)
   * and echo the ID headers. Turn off only to measure what it costs. Default: `true`.
   */
  @BooleanFlag()
  LOG_CONTEXT = true;

  /**
   * Lines a trace (`GET /api/v1/traces/:id`, the trace page) answers with when the request
   * names no `limit`: the flow's first ones in time order, the answer marked `truncated` when
   * there are more. At most TRACE_MAX_LIMIT. Default: `1000`.
   * @see docs/trace.md#a-trace-has-a-bound
   */
  @IntRange(1, 100_000, 'lines', 'TRACE_DEFAULT_LIMIT=1000')
  @NotAbove('TRACE_MAX_LIMIT', 'TRACE_DEFAULT_LIMIT=1000 with TRACE_MAX_LIMIT=10000')
  TRACE_DEFAULT_LIMIT = 1000;

  /**
   * Most lines one trace answer may hold (its `limit`); a larger `limit` is a 400. Bounds the
   * memory one trace request takes in the API. Default: `10000`.
   */
  @IntRange(1, 100_000, 'lines', 'TRACE_MAX_LIMIT=10000')
  TRACE_MAX_LIMIT = 10_000;

  /**
   * How long a flow lasts, first line to last, before the flow list calls it slow
   * (`GET /api/v1/flows?status=slow`, `threadline flows --status slow`) when the request names
   * no `min_duration_ms`. Default: `5000`.
   * @see docs/flows.md
   */
  @IntRange(1, 86_400_000, 'ms', 'FLOW_SLOW_MS=5000')
  FLOW_SLOW_MS = 5000;
}
