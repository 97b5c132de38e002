import { IsIn, IsNotEmpty, IsString, Matches, ValidateIf } from 'class-validator';
import { BooleanFlag } from './boolean-flag.decorator';
import { IntRange } from './int-range.decorator';
import { TASK_QUEUES, type TaskQueue } from './queue-names';
import { IsQueueList } from './is-queue-list.validator';
import { API_KEYS_PATTERN, API_KEYS_RULE } from './api-keys.setting';
import { IsServiceUrl, IsServiceUrlList } from './is-service-url.validator';
import { IsRedisNodeList } from './redis-nodes';
import { NotAbove } from './not-above.validator';

const PROXY = '(loopback|linklocal|uniquelocal|[0-9A-Fa-f:.]+(/\\d{1,3})?)';
/** What TRUST_PROXY accepts: `false`, a hop count, or a list of addresses and ranges. */
export const TRUST_PROXY_PATTERN = new RegExp(`^(false|\\d{1,2}|${PROXY}( *, *${PROXY})*)$`);

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
   * API keys, as comma-separated `name:key[:grant[+grant]]` entries (names of a-z, 0-9, _ and
   * -; keys of 24 or more letters, digits, _ and -; grants `high`, to submit to the high queue,
   * and `admin`, to see the workers' hosts and pids). When set, every request under `/api/v1`
   * needs `Authorization: Bearer <key>` (or `X-API-Key`), and a key sees only its own tasks and
   * traces. Default: unset (no keys, everything allowed: for local use).
   * @see docs/security.md#api-keys
   */
  @Matches(API_KEYS_PATTERN, { message: API_KEYS_RULE })
  API_KEYS = '';

  /**
   * Requests each API key may make in any 60 seconds (a sliding window, when API_KEYS is set);
   * then 429. Redis keeps one entry per counted request, so the bound also bounds its memory.
   * Default: `600`.
   * @see docs/security.md#rate-limits
   */
  @IntRange(1, 100_000, 'requests per minute')
  RATE_LIMIT_PER_MINUTE = 600;

  /**
   * Requests without a valid API key (401) one client address may make in any 60 seconds (when
   * API_KEYS is set); beyond it every request from that address gets 429 until the window has
   * room, so that keys cannot be guessed at speed. Default: `20`.
   * @see docs/security.md#rate-limits
   */
  @IntRange(1, 10_000, 'failed authentications per minute', 'AUTH_FAILURES_PER_MINUTE=20')
  AUTH_FAILURES_PER_MINUTE = 20;

  /**
   * Which peers may set the client address with `X-Forwarded-For` (Express's `trust proxy`):
   * `false` (none: the address is the TCP peer's), a number of proxy hops, or a comma-separated
   * list of addresses, CIDR ranges and the names `loopback`, `linklocal`, `uniquelocal`. The
   * address keys the failed-authentication limit and the per-client quotas when keys are off.
   * Default: `loopback` (a proxy on this machine, such as nginx in front of `npm start`).
   * @see docs/security.md#client-address
   */
  @Matches(TRUST_PROXY_PATTERN, {
    message:
      'must be false, a number of proxy hops, or addresses, CIDR ranges, loopback, linklocal or uniquelocal separated by commas, e.g. TRUST_PROXY=loopback or TRUST_PROXY=10.0.0.0/8',
  })
  TRUST_PROXY = 'loopback';

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

  /**
   * Most unfinished tasks (queued or running, a batch's children included) one client may
   * have: an API key, or a client address when API_KEYS is unset. Beyond it a submit answers
   * 429. Default: `1000`.
   * @see docs/security.md#quotas
   */
  @IntRange(1, 1_000_000, 'tasks')
  QUOTA_TASKS_PER_CLIENT = 1000;

  /**
   * Most bytes one client may keep in Redis: the input of its unfinished tasks, and what its
   * finished tasks keep (result, record) until RESULT_TTL_S. Beyond it a submit answers 429.
   * Default: 256 MiB (about 250,000 finished tasks within RESULT_TTL_S).
   */
  @IntRange(1024, Infinity, 'bytes')
  QUOTA_BYTES_PER_CLIENT = 256 * 1024 * 1024;

  /**
   * Longest a task may wait in its queue before a worker takes it; then it fails as
   * `TaskExpired`, and its client sees why. Default: `86400` (a day).
   */
  @IntRange(10, Infinity, 'seconds')
  TASK_MAX_WAIT_S = 24 * 3600;

  /** Runs a task may get before it fails for good (retryable errors only). Default: `3`. */
  @IntRange(1, 20)
  TASK_ATTEMPTS = 3;

  /** First retry delay, doubled at each retry, in ms. Default: `1000`. */
  @IntRange(0, 3600000, 'milliseconds')
  TASK_BACKOFF_MS = 1000;

  /**
   * Most work one `calculate_var` task (or one portfolio of a `batch_var`) may declare, in
   * multiply-adds: assets³ + simulations × assets² (docs/tasks.md#cost-limits); more is a 422.
   * About 10 s on one core. Default: `10000000000` (1e10: 200 assets × 250,000 simulations).
   */
  @IntRange(1_000_000, 1e15, 'operations')
  TASK_VAR_MAX_OPERATIONS = 10_000_000_000;

  /** Most work one `batch_var` may declare, summed over its portfolios, in multiply-adds. Default: `100000000000` (1e11). */
  @IntRange(1_000_000, 1e16, 'operations')
  TASK_BATCH_MAX_OPERATIONS = 100_000_000_000;

  /** Longest `delay_ms` an `echo` task may ask for: the time it holds a worker slot. Default: `60000`. */
  @IntRange(0, 600000, 'milliseconds')
  TASK_ECHO_MAX_DELAY_MS = 60000;

  /**
   * Longest a CPU-heavy task (`calculate_var`) may compute on its worker thread; past it the
   * thread is stopped and the task fails without retry, in ms. Default: `120000`.
   */
  @IntRange(100, 3600000, 'milliseconds')
  TASK_THREAD_TIMEOUT_MS = 120000;

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

  /** TRUST_PROXY as Express's `trust proxy` setting takes it. */
  get trustProxy(): boolean | number | string {
    if (this.TRUST_PROXY === 'false') return false;
    if (/^\d+$/.test(this.TRUST_PROXY)) return Number(this.TRUST_PROXY);
    return this.TRUST_PROXY;
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
