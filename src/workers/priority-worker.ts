import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../config/app-config';
import type { TaskQueue } from '../queues/queue-names';
import type { TaskEnvelope } from '../tasks/task';
import { TaskDataError } from '../tasks/task-data.error';
import type { TaskContext, TaskType } from '../tasks/task-handler';
import { TaskRegistry } from '../tasks/task-registry';
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
  private connection!: Redis;
  private blocking!: Redis;
  private accepting = true;
  private readonly slots: Promise<void>[] = [];
  private readonly active = new Set<Job<TaskEnvelope>>();
  private wake: Promise<void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private tokenCounter = 0;
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly config: AppConfig,
    private readonly registry: TaskRegistry,
    private readonly workerRegistry: WorkerRegistryRepository,
  ) {
    this.queues = config.workerQueues;
  }

  async onApplicationBootstrap(): Promise<void> {
    // BullMQ needs maxRetriesPerRequest: null so that its commands wait out a Redis restart.
    this.connection = new Redis(this.config.REDIS_URL, {
      maxRetriesPerRequest: null,
      connectionName: `threadline-worker:${this.id}`,
    });
    this.blocking = new Redis(this.config.REDIS_URL, {
      maxRetriesPerRequest: null,
      connectionName: `threadline-worker-wait:${this.id}`,
    });
    this.connection.on('error', () => undefined);
    this.blocking.on('error', () => undefined);
    for (const queue of this.queues) {
      const worker = new Worker<TaskEnvelope>(queue, null, {
        connection: this.connection,
        prefix: this.config.REDIS_PREFIX,
        autorun: false,
        lockDuration: this.config.WORKER_LOCK_MS,
        stalledInterval: this.config.WORKER_STALLED_INTERVAL_MS,
        maxStalledCount: this.config.WORKER_MAX_STALLED,
        name: this.id,
      });
      worker.on('error', (error) => this.logger.warn(`queue ${queue}: ${error.message}`));
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
      this.slots.push(this.runSlot());
    }
  }

  /** SIGTERM: take no new task, let those in flight finish within the grace period. */
  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.accepting = false;
    clearInterval(this.heartbeat);
    this.logger.log(
      `${signal ?? 'shutdown'}: finishing ${this.active.size} task(s) in flight, taking no new ones`,
    );
    const drained = Promise.all(this.slots).then(() => true);
    const grace = sleep(this.config.WORKER_SHUTDOWN_GRACE_MS).then(() => false);
    const finished = await Promise.race([drained, grace]);
    if (!finished) {
      this.logger.warn(
        `grace period over with ${this.active.size} task(s) still running; other workers will re-run them`,
      );
    }
    await this.workerRegistry.remove(this.id).catch(() => undefined);
    await Promise.all([...this.workers.values()].map((w) => w.close(!finished)));
    this.blocking.disconnect();
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
    this.active.add(job);
    const queue = job.queueName as TaskQueue;
    const renew = setInterval(() => {
      job.extendLock(token, this.config.WORKER_LOCK_MS).catch((error: Error) => {
        this.logger.warn(`task ${job.id}: lock renewal failed: ${error.message}`);
      });
    }, this.config.WORKER_LOCK_MS / 2);
    try {
      if (job.deferredFailure) {
        // BullMQ marks a task that lost its worker too often (WORKER_MAX_STALLED) and leaves
        // the failing to whoever takes it next: fail it without running it again.
        throw new UnrecoverableError(job.deferredFailure);
      }
      const type = job.name as TaskType;
      const data = this.registry.parse(type, job.data.input);
      const context: TaskContext = {
        taskId: job.id ?? '',
        attempt: job.attemptsStarted,
        queue,
        progress: (percent) => job.updateProgress(Math.max(0, Math.min(100, Math.round(percent)))),
        childResults: async <T>() => {
          const values = await job.getChildrenValues<{ result: T; index: number }>();
          return Object.values(values)
            .sort((a, b) => a.index - b.index)
            .map((v) => v.result);
        },
      };
      const result = await this.registry.handler(type).run(data, context);
      // Children report their index so that the parent can keep the given order.
      const stored =
        job.data.meta.index === undefined ? result : { result, index: job.data.meta.index };
      await job.moveToCompleted(stored, token, false);
    } catch (error) {
      const failure =
        error instanceof TaskDataError
          ? new UnrecoverableError(`invalid task data: ${error.message}`)
          : error instanceof Error
            ? error
            : new Error(String(error));
      await job.moveToFailed(withNamedStack(failure), token, false).catch((e: Error) => {
        this.logger.warn(`task ${job.id}: could not record its failure: ${e.message}`);
      });
    } finally {
      clearInterval(renew);
      this.active.delete(job);
    }
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
      })
      .catch(() => undefined);
  }
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
