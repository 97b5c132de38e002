import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Job, UnrecoverableError, Worker } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppLogger as Pino } from '../logging/logger';
import { AppConfig } from '../config/app-config';
import { type FlowContext, flowContext } from '../context/flow-context';
import { continueTrace } from '../context/ids';
import { LogTransportHandle } from '../logging/log-transport-handle';
import { PINO } from '../logging/logging.module';
import type { TaskQueue } from '../queues/queue-names';
import { createRedisClient, type RedisClient } from '../redis/redis-client';
import { type TaskEnvelope, taskInput } from '../tasks/task';
import { TaskDataError } from '../tasks/task-data.error';
import type { TaskContext, TaskType } from '../tasks/task-handler';
import { isTaskType, TaskRegistry } from '../tasks/task-registry';
import { expiredMessage, TaskHousekeeping } from './task-housekeeping';
import { WorkerRegistryRepository } from './worker-registry.repository';

const HEARTBEAT_MS = 5_000;
/** Longest idle wait before polling again; also bounds how late a retry backoff fires. */
const IDLE_WAIT_S = 1;

/**
 * A worker process's task loop, with strict priority across queues: each free slot takes
 * from `high` if it has a task, else `medium`, else `low` (in the order of WORKER_QUEUES),
 * like the old stack's `BRPOP high medium low`.
 *
 * BullMQ workers each serve one queue, so this uses them in manual mode (`getNextJob`): one
 * BullMQ Worker per queue owns the locks and the stalled-job checks, and this loop decides
 * which queue to take from. When every queue is empty, one blocking `BZPOPMIN` on the
 * queues' BullMQ marker keys wakes the loop as soon as any task arrives.
 * @see docs/queues.md
 * @see https://docs.bullmq.io/patterns/manually-fetching-jobs
 */
@Injectable()
export class PriorityWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly logger = new Logger('worker');
  private readonly queues: TaskQueue[];
  private readonly workers = new Map<TaskQueue, Worker<TaskEnvelope>>();
  private connection!: RedisClient;
  private blocking!: RedisClient;
  private accepting = true;
  private readonly slots: Promise<void>[] = [];
  /** Tasks running now, with the lock token each was taken with. */
  private readonly active = new Map<Job<TaskEnvelope>, string>();
  private wake: Promise<void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private tokenCounter = 0;
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly config: AppConfig,
    private readonly registry: TaskRegistry,
    private readonly workerRegistry: WorkerRegistryRepository,
    @Inject(PINO) private readonly log: Pino,
    private readonly logShipping: LogTransportHandle,
    private readonly housekeeping: TaskHousekeeping,
  ) {
    this.queues = config.workerQueues;
  }

  async onApplicationBootstrap(): Promise<void> {
    // BullMQ needs maxRetriesPerRequest: null so that its commands wait out a Redis restart.
    this.connection = createRedisClient(this.config, {
      maxRetriesPerRequest: null,
      connectionName: `threadline-worker:${this.id}`,
    });
    this.blocking = createRedisClient(this.config, {
      maxRetriesPerRequest: null,
      connectionName: `threadline-worker-wait:${this.id}`,
    });
    this.connection.on('error', () => undefined);
    this.blocking.on('error', () => undefined);
    for (const queue of this.queues) {
      const worker = new Worker<TaskEnvelope>(queue, null, {
        connection: this.connection,
        prefix: this.config.keyPrefix,
        autorun: false,
        lockDuration: this.config.WORKER_LOCK_MS,
        stalledInterval: this.config.WORKER_STALLED_INTERVAL_MS,
        maxStalledCount: this.config.WORKER_MAX_STALLED,
        name: this.id,
      });
      worker.on('error', (error) => this.logger.warn(`queue ${queue}: ${error.message}`));
      worker.on('stalled', (jobId) => {
        this.onStalled(queue, jobId).catch(() => undefined);
      });
      this.workers.set(queue, worker);
      void worker.startStalledCheckTimer();
    }
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    // Said before the first task is taken, so that it is written even if that task kills us.
    this.logger.log(
      `worker ${this.id} taking tasks from ${this.queues.join(' > ')} with concurrency ${this.config.WORKER_CONCURRENCY}`,
    );
    for (let slot = 0; slot < this.config.WORKER_CONCURRENCY; slot++) {
      this.slots.push(
        this.runSlot().catch((error: Error) =>
          this.logger.error(`task slot stopped: ${error.message}`),
        ),
      );
    }
  }

  /** SIGTERM: take no new task, let those in flight finish within the grace period. */
  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.accepting = false;
    clearInterval(this.heartbeat);
    // Wake idle slots at once: their blocking wait would otherwise last until it times out.
    this.blocking.disconnect();
    this.logger.log(
      `${signal ?? 'shutdown'}: finishing ${this.active.size} task(s) in flight, taking no new ones`,
    );
    const drained = Promise.all(this.slots).then(() => true);
    const grace = sleep(this.config.WORKER_SHUTDOWN_GRACE_MS).then(() => false);
    const finished = await Promise.race([drained, grace]);
    if (!finished) {
      this.logger.warn(
        `grace period over with ${this.active.size} task(s) still running; putting them back in their queues`,
      );
      // Back to wait now, rather than left locked until they count as stalled.
      await Promise.all(
        [...this.active].map(([job, token]) => job.moveToWait(token).catch(() => undefined)),
      );
    }
    await this.workerRegistry.remove(this.id).catch(() => undefined);
    await Promise.all([...this.workers.values()].map((w) => w.close(!finished)));
    this.connection.disconnect();
  }

  private async runSlot(): Promise<void> {
    let failures = 0;
    while (this.accepting) {
      const token = `${this.id}:${this.tokenCounter++}`;
      let job: Job<TaskEnvelope> | undefined;
      try {
        job = await this.takeNext(token);
        failures = 0;
      } catch (error) {
        failures++;
        if (failures === 1)
          this.logger.warn(`cannot fetch tasks: ${(error as Error).message}; retrying`);
        await sleep(Math.min(2000, 100 * 2 ** failures));
        continue;
      }
      if (job) await this.process(job, token);
      else await this.waitForWork();
    }
  }

  /** The first task in priority order, or undefined when every queue is empty. */
  private async takeNext(token: string): Promise<Job<TaskEnvelope> | undefined> {
    for (const queue of this.queues) {
      if (!this.accepting) return undefined;
      const job = await this.workers.get(queue)?.getNextJob(token, { block: false });
      if (job) return job;
    }
    return undefined;
  }

  /** Blocks until any served queue signals new work, or IDLE_WAIT_S passes; shared by idle slots. */
  private waitForWork(): Promise<void> {
    this.wake ??= (async () => {
      try {
        const markers = [...this.workers.values()].map((w) => w.keys.marker);
        await this.blocking.bzpopmin(...markers, IDLE_WAIT_S);
      } catch {
        await sleep(IDLE_WAIT_S * 1000);
      } finally {
        this.wake = undefined;
      }
    })();
    return this.wake;
  }

  private async process(job: Job<TaskEnvelope>, token: string): Promise<void> {
    this.active.set(job, token);
    const renew = setInterval(() => {
      job.extendLock(token, this.config.WORKER_LOCK_MS).catch((error: Error) => {
        this.logger.warn(`task ${job.id}: lock renewal failed: ${error.message}`);
      });
    }, this.config.WORKER_LOCK_MS / 2);
    try {
      if (typeof job.data?.meta !== 'object' || job.data.meta === null) {
        // Not queued by Threadline (e.g. added by hand): fail it rather than crash on it.
        await this.fail(
          job,
          token,
          new UnrecoverableError('the job has no Threadline envelope ({input, meta})'),
          0,
        );
        return;
      }
      await flowContext.run(this.contextOf(job), () => this.run(job, token));
    } catch (error) {
      this.logger.error(`task ${job.id}: ${(error as Error).message}`);
    } finally {
      clearInterval(renew);
      this.active.delete(job);
    }
  }

  /**
   * The flow a task run belongs to, restored from the job's metadata: the submitting
   * request's IDs, a new span of the submitter's trace, and the task's own fields.
   */
  private contextOf(job: Job<TaskEnvelope>): FlowContext {
    const meta = job.data.meta;
    const { trace } = continueTrace(meta.traceparent);
    const parent_id = job.parentKey?.split(':').pop();
    return {
      request_id: meta.request_id,
      correlation_id: meta.correlation_id ?? job.id,
      task_id: job.id,
      ...(meta.owner ? { owner: meta.owner } : {}),
      task: {
        type: job.name,
        queue: job.queueName,
        attempt: job.attemptsStarted,
        ...(parent_id ? { parent_id } : {}),
      },
      trace,
    };
  }

  /** Runs one task inside its flow context, writing the lifecycle lines. */
  private async run(job: Job<TaskEnvelope>, token: string): Promise<void> {
    const started = performance.now();
    const attempt = job.attemptsStarted;
    const queueWaitMs =
      attempt === 1 && job.processedOn ? job.processedOn - job.timestamp : undefined;
    this.log.info(
      {
        'event.action': 'task-started',
        ...(queueWaitMs === undefined ? {} : { 'task.queue_wait_ms': queueWaitMs }),
      },
      `task ${job.id} started (attempt ${attempt}${queueWaitMs === undefined ? '' : `, waited ${queueWaitMs} ms`})`,
    );
    try {
      if (job.deferredFailure) {
        // BullMQ marks a task that lost its worker too often (WORKER_MAX_STALLED) and leaves
        // the failing to whoever takes it next: fail it without running it again.
        throw new UnrecoverableError(job.deferredFailure);
      }
      if (!isTaskType(job.name)) {
        throw new UnrecoverableError(`unknown task type "${job.name}"`);
      }
      const type: TaskType = job.name;
      const waitedMs = Date.now() - job.timestamp;
      // A batch's parent waits for its children by design; anything else expires unstarted.
      if (attempt === 1 && job.data.meta.children === undefined && waitedMs > this.maxWaitMs) {
        throw new TaskExpiredError(expiredMessage(waitedMs, this.config.TASK_MAX_WAIT_S));
      }
      const context: TaskContext = {
        taskId: job.id ?? '',
        attempt,
        queue: job.queueName as TaskQueue,
        progress: async (percent) => {
          const value = Math.max(0, Math.min(100, Math.round(percent)));
          await job.updateProgress(value);
          this.log.info(
            { 'event.action': 'task-progress', 'task.progress': value },
            `task ${job.id} at ${value}%`,
          );
        },
        childResults: async <T>() => {
          const values = await job.getChildrenValues<{ result: T; index: number }>();
          return Object.values(values)
            .sort((a, b) => a.index - b.index)
            .map((v) => v.result);
        },
      };
      const handler = this.registry.handler(type);
      const result = handler.children
        ? await handler.combine(context)
        : await handler.run(this.registry.parse(type, taskInput(job.data)), context);
      // Children report their index so that the parent can keep the given order.
      const stored =
        job.data.meta.index === undefined ? result : { result, index: job.data.meta.index };
      try {
        await job.moveToCompleted(stored, token, false);
      } catch (error) {
        // The work is done; if its lock is lost, another worker will run it again.
        this.log.warn(
          { 'event.action': 'task-completion-lost', 'error.message': (error as Error).message },
          `task ${job.id} finished but its completion could not be recorded; it may run again`,
        );
        return;
      }
      await this.housekeeping.ended(job, 'completed');
      const runMs = performance.now() - started;
      this.log.info(
        {
          'event.action': 'task-completed',
          'event.duration': Math.round(runMs * 1e6),
          'task.run_ms': Math.round(runMs),
          ...(queueWaitMs === undefined ? {} : { 'task.queue_wait_ms': queueWaitMs }),
        },
        `task ${job.id} completed in ${Math.round(runMs)} ms`,
      );
    } catch (error) {
      await this.fail(job, token, error, performance.now() - started);
    }
  }

  private async fail(
    job: Job<TaskEnvelope>,
    token: string,
    error: unknown,
    runMs: number,
  ): Promise<void> {
    const failure =
      error instanceof TaskDataError
        ? new UnrecoverableError(`invalid task data: ${error.message}`)
        : error instanceof Error
          ? error
          : new Error(String(error));
    const attempts = job.opts.attempts ?? 1;
    const willRetry = !(failure instanceof UnrecoverableError) && job.attemptsMade + 1 < attempts;
    const retryInMs = this.config.TASK_BACKOFF_MS * 2 ** job.attemptsMade;
    const recorded = await job.moveToFailed(withNamedStack(failure), token, false).then(
      () => true,
      (e: Error) => {
        this.logger.warn(`task ${job.id}: could not record its failure: ${e.message}`);
        return false;
      },
    );
    if (recorded && !willRetry) await this.housekeeping.ended(job, 'failed');
    const fields = {
      'event.action': willRetry ? 'task-retried' : 'task-failed',
      'event.duration': Math.round(runMs * 1e6),
      'task.run_ms': Math.round(runMs),
      'error.type': failure.name,
      'error.message': failure.message,
      ...(willRetry ? { 'task.retry_in_ms': retryInMs } : {}),
    };
    if (willRetry) {
      this.log.warn(
        fields,
        `task ${job.id} failed on attempt ${job.attemptsStarted} (${failure.name}); retrying in ${retryInMs} ms`,
      );
    } else {
      this.log.error(
        fields,
        `task ${job.id} failed for good on attempt ${job.attemptsStarted}: ${failure.name}: ${failure.message}`,
      );
    }
  }

  /** A task whose worker stopped was put back in its queue by this worker's stalled check. */
  private async onStalled(queue: TaskQueue, jobId: string): Promise<void> {
    const worker = this.workers.get(queue);
    const job = worker
      ? await Job.fromId<TaskEnvelope>(worker, jobId).catch(() => undefined)
      : undefined;
    const line = (): void =>
      this.log.warn(
        { 'event.action': 'task-stalled' },
        `task ${jobId} stalled: its worker stopped responding; it goes back to ${queue}`,
      );
    if (!job) return line();
    const context = this.contextOf(job);
    // By the time this line is written another worker may have started the next attempt.
    const restarted = (await job.getState().catch(() => 'unknown')) === 'active';
    if (context.task && restarted) context.task.attempt -= 1;
    flowContext.run(context, line);
  }

  private get maxWaitMs(): number {
    return this.config.TASK_MAX_WAIT_S * 1000;
  }

  private async beat(): Promise<void> {
    await this.workerRegistry
      .heartbeat({
        id: this.id,
        host: hostname(),
        pid: process.pid,
        queues: this.queues,
        concurrency: this.config.WORKER_CONCURRENCY,
        active: this.active.size,
        started_at: this.startedAt,
        log_shipping: this.logShipping.status(),
      })
      .catch(() => undefined);
  }
}

/** A task that waited longer than TASK_MAX_WAIT_S for its first run: failed without running. */
class TaskExpiredError extends UnrecoverableError {
  override readonly name = 'TaskExpired';
}

/**
 * V8 may write an error's stack header before a subclass sets its `name`, so the stack of an
 * `UnrecoverableError` can start with "Error:". BullMQ keeps the stack, and the API reads the
 * error's type from its first line: make that line say the real class.
 */
function withNamedStack(error: Error): Error {
  const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  error.stack = [`${error.name}: ${error.message}`, ...frames].join('\n');
  return error;
}
