import { BooleanFlag } from './boolean-flag.decorator';
import { IntRange } from './int-range.decorator';
import { IsQueueList } from './is-queue-list.validator';
import { LimitSettings } from './limits.settings';
import { TASK_QUEUES, type TaskQueue } from './queue-names';

/** Running tasks: how long they and their results are kept, retries, and the workers. One section of `AppConfig`, which callers use. */
export class TaskSettings extends LimitSettings {
  /** How long results (and failures) are kept after a task finishes, in seconds. Default: 7 days. */
  @IntRange(60, Infinity, 'seconds')
  RESULT_TTL_S = 7 * 24 * 3600;

  /** How long an Idempotency-Key is remembered, in seconds. Default: 24 hours. */
  @IntRange(60, Infinity, 'seconds')
  IDEMPOTENCY_TTL_S = 24 * 3600;

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

  /** Queues named by WORKER_QUEUES, in order. */
  get workerQueues(): TaskQueue[] {
    return this.WORKER_QUEUES.split(',').map((q) => q.trim()) as TaskQueue[];
  }
}
