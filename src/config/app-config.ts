import { IsIn, IsNotEmpty, IsString, Matches, ValidateIf } from 'class-validator';
import { BooleanFlag } from './boolean-flag.decorator';
import { IntRange } from './int-range.decorator';
import { TASK_QUEUES, type TaskQueue } from '../queues/queue-names';
import { IsQueueList } from './is-queue-list.validator';
import { API_KEYS_PATTERN } from '../auth/api-keys';
import { IsServiceUrl, IsServiceUrlList } from './is-service-url.validator';
import { IsRedisNodeList } from './redis-nodes';
import { NotAbove } from './not-above.validator';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The process environment, typed and validated once at boot by {@link loadConfig}.
 * Each property is named after its environment variable; README.md#configuration lists them.
 */
export class AppConfig {
  /** TCP port the HTTP API listens on. Default: `3000`. */
  @IntRange(1, 65535, '', 'PORT=3000')
  PORT = 3000;

  /** Address the HTTP API binds to. Default: `127.0.0.1` (use `0.0.0.0` in a container). */
  @IsString()
  @IsNotEmpty({ message: 'must be a host name or IP address, e.g. HOST=127.0.0.1' })
  HOST = '127.0.0.1';

  /** Redis holding the queues and results. Default: `redis://127.0.0.1:6379`. */
  @IsServiceUrl(['redis:', 'rediss:'], 'redis://127.0.0.1:6379')
  REDIS_URL = 'redis://127.0.0.1:6379';

  /**
   * A Redis Cluster instead of one Redis: some or all of its nodes, as comma-separated
   * `host:port` pairs or `redis://[:password@]host:port` URLs (the first with a password gives
   * it). REDIS_URL is then not used. Default: unset (one Redis at REDIS_URL).
   */
  @ValidateIf((config: AppConfig) => config.REDIS_CLUSTER_NODES !== '')
  @IsRedisNodeList()
  REDIS_CLUSTER_NODES = '';

  /**
   * Replicas that must hold a task before it is accepted (Redis `WAIT`), so that a master's
   * failover cannot lose it; a request answers 503 when they do not confirm in time.
   * Default: `1` with REDIS_CLUSTER_NODES, else `0`.
   */
  @ValidateIf((config: AppConfig) => config.REDIS_WAIT_REPLICAS !== '')
  @Matches(/^\d$/, {
    message: 'must be a number of replicas from 0 to 9, e.g. REDIS_WAIT_REPLICAS=1',
  })
  REDIS_WAIT_REPLICAS = '';

  /**
   * Prefix of every key Threadline keeps in Redis (queues, idempotency records, heartbeats).
   * Processes sharing a prefix share queues. On a cluster it is put in braces (`{threadline}`)
   * unless it has them, so that every key hashes to one slot, as BullMQ requires.
   * Default: `threadline`.
   */
  @Matches(/^[A-Za-z0-9_.{}-]{1,64}$/, {
    message: 'must be 1-64 letters, digits or _ . - { }, e.g. threadline',
  })
  REDIS_PREFIX = 'threadline';

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

  /** Data stream receiving the log lines. Default: `logs-threadline-default`. */
  @Matches(/^logs-[a-z0-9_.]+-[a-z0-9_.]+$/, {
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
  @ValidateIf((config: AppConfig) => config.KIBANA_URL !== '')
  @IsServiceUrl(['http:', 'https:'], 'http://localhost:5601')
  KIBANA_URL = '';

  /** Lowest level written to the log. Default: `info`. */
  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: LogLevel = 'info';

  /**
   * Stamp every log line with the flow context (request_id, correlation_id, task_id, trace)
   * and echo the ID headers. Turn off only to measure what it costs. Default: `true`.
   */
  @BooleanFlag()
  LOG_CONTEXT = true;

  /** How long one readiness probe of a dependency may take, in ms. Default: `2000`. */
  @IntRange(100, 60000, 'milliseconds')
  READY_TIMEOUT_MS = 2000;

  /**
   * API keys, as comma-separated `name:key` pairs (names of a-z, 0-9, _ and -; keys of 24 or
   * more letters, digits, _ and -). When set, every API request needs `Authorization: Bearer
   * <key>` (or `X-API-Key`), and a key sees only its own tasks and traces. Default: unset (no
   * keys: for local use).
   */
  @Matches(API_KEYS_PATTERN, {
    message:
      'must be name:key pairs separated by commas, keys of 24+ characters [A-Za-z0-9_-], e.g. API_KEYS=alice:$(openssl rand -hex 24)',
  })
  API_KEYS = '';

  /** Requests per minute each API key may make (when API_KEYS is set); then 429. Default: `600`. */
  @IntRange(1, 1_000_000, 'requests per minute')
  RATE_LIMIT_PER_MINUTE = 600;

  /** Largest accepted request body, e.g. `1mb` or `200kb`. Default: `1mb`. */
  @Matches(/^\d+(b|kb|mb)$/i, { message: 'must be a size such as 200kb or 1mb' })
  BODY_LIMIT = '1mb';

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

  /** How long a Redis operation of a request may take before it answers 503, in ms. Default: `800`. */
  @IntRange(50, 10000, 'milliseconds')
  REDIS_TIMEOUT_MS = 800;

  /** How long results (and failures) are kept after a task finishes, in seconds. Default: 7 days. */
  @IntRange(60, Infinity, 'seconds')
  RESULT_TTL_S = 7 * 24 * 3600;

  /** How long an Idempotency-Key is remembered, in seconds. Default: 24 hours. */
  @IntRange(60, Infinity, 'seconds')
  IDEMPOTENCY_TTL_S = 24 * 3600;

  /** Runs a task may get before it fails for good (retryable errors only). Default: `3`. */
  @IntRange(1, 20)
  TASK_ATTEMPTS = 3;

  /** First retry delay, doubled at each retry, in ms. Default: `1000`. */
  @IntRange(0, 3600000, 'milliseconds')
  TASK_BACKOFF_MS = 1000;

  /** Queues this worker takes tasks from, in strict priority order. Default: `high,medium,low`. */
  @IsQueueList()
  WORKER_QUEUES = TASK_QUEUES.join(',');

  /** Tasks one worker process runs at once. Default: `4`. */
  @IntRange(1, 256)
  WORKER_CONCURRENCY = 4;

  /**
   * How long a worker holds a task without renewing its lock; a worker that dies loses its
   * tasks to others after this, in ms. Default: `30000`.
   */
  @IntRange(500, 600000, 'milliseconds')
  WORKER_LOCK_MS = 30000;

  /** How often workers look for tasks whose worker died, in ms. Default: `15000`. */
  @IntRange(200, 600000, 'milliseconds')
  WORKER_STALLED_INTERVAL_MS = 15000;

  /** Times a task may lose its worker before it fails (bounds a task that crashes workers). Default: `1`. */
  @IntRange(0, 10)
  WORKER_MAX_STALLED = 1;

  /** On SIGTERM, how long a worker waits for tasks in flight before leaving them to others, in ms. Default: `30000`. */
  @IntRange(0, 600000, 'milliseconds')
  WORKER_SHUTDOWN_GRACE_MS = 30000;

  /**
   * Lets `echo` tasks fail or crash their worker on request, for tests and demos. Never turn it
   * on where untrusted clients submit tasks. Default: `false`.
   */
  @BooleanFlag()
  TASK_FAULT_INJECTION = false;

  /** Whether Redis is a cluster (REDIS_CLUSTER_NODES is set). */
  get redisCluster(): boolean {
    return this.REDIS_CLUSTER_NODES !== '';
  }

  /** The prefix of every Redis key: REDIS_PREFIX, in braces on a cluster (one hash slot). */
  get keyPrefix(): string {
    if (!this.redisCluster || this.REDIS_PREFIX.includes('{')) return this.REDIS_PREFIX;
    return `{${this.REDIS_PREFIX}}`;
  }

  /** Replicas a task must reach before it is accepted: REDIS_WAIT_REPLICAS, or its default. */
  get waitReplicas(): number {
    if (this.REDIS_WAIT_REPLICAS !== '') return Number(this.REDIS_WAIT_REPLICAS);
    return this.redisCluster ? 1 : 0;
  }

  /** Queues named by WORKER_QUEUES, in order. */
  get workerQueues(): TaskQueue[] {
    return this.WORKER_QUEUES.split(',').map((q) => q.trim()) as TaskQueue[];
  }
}
