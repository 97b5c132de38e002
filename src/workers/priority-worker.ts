import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { createRedisBackend, type Job, Worker } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../config/app-config';
import { LogTransportHandle } from '../logging/log-transport-handle';
import type { TaskQueue } from '../config/queue-names';
import type { TaskEnvelope } from '../queues/task';
import { createRedisClient, type RedisClient } from '../redis/redis-client';
import { TaskHousekeeping } from './task-housekeeping';
import { TaskRun } from './task-run';
import { LockRenewal } from './lock-renewal';
import { ShardedTaker, type ServedShard } from './sharded-taker';
import { TaskTaker } from './task-taker';
import { WorkerRegistryRepository } from './worker-registry.repository';

const HEARTBEAT_MS = 5_000;
/** Longest idle wait before polling again; also bounds how late a retry backoff fires. */
const IDLE_WAIT_S = 1;

/**
 * A worker process's task loop, with strict priority across queues: each free slot takes
 * from `high` if it has a task, else `medium`, else `low` (in the order of WORKER_QUEUES),
 * like the old stack's `BRPOP high medium low`.
 *
 * BullMQ workers each serve one queue, so this uses them in manual mode: one BullMQ Worker per
 * queue owns the locks and the stalled-job checks, and {@link TaskTaker} takes the first task
 * of the first non-empty queue in one script (BullMQ's own moveToActive on each queue in
 * turn), the same script that records the completion of the slot's last task, so that a busy
 * slot makes one round trip per task. When every queue is empty, one blocking `BZPOPMIN` on
 * the queues' BullMQ marker keys wakes the loop as soon as any task arrives. The run of each
 * task it takes is {@link TaskRun}'s; this loop holds the task's lock while it runs.
 *
 * With REDIS_SHARDS > 1 it serves every shard (and the unsharded layout while it is drained),
 * each with its own BullMQ workers and TaskTaker, and {@link ShardedTaker} keeps the priority
 * order across them.
 * @see docs/queues.md
 * @see https://docs.bullmq.io/patterns/manually-fetching-jobs
 */
@Injectable()
export class PriorityWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly logger = new Logger('worker');
  private readonly queues: TaskQueue[];
  /** The BullMQ worker of each served queue of each served shard, by qualified queue name. */
  private readonly workers = new Map<string, Worker<TaskEnvelope>>();
  private connection!: RedisClient;
  private taker!: ShardedTaker;
  private accepting = true;
  private readonly slots: Promise<void>[] = [];
  /** Tasks running now, with the lock token each was taken with, and their locks kept. */
  private locks!: LockRenewal;
  private wake: Promise<void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private tokenCounter = 0;
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly config: AppConfig,
    private readonly taskRun: TaskRun,
    private readonly workerRegistry: WorkerRegistryRepository,
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
    this.connection.on('error', () => undefined);
    const served = this.config.shards.served.map((prefix) => this.serve(prefix));
    this.taker = new ShardedTaker(served, IDLE_WAIT_S);
    this.locks = new LockRenewal(this.workers, this.config.WORKER_LOCK_MS, (message) =>
      this.logger.warn(message),
    );
    this.locks.start();
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    // Said before the first task is taken, so that it is written even if that task kills us.
    const shards = served.length > 1 ? ` on ${served.length} shards` : '';
    this.logger.log(
      `worker ${this.id} taking tasks from ${this.queues.join(' > ')}${shards} with concurrency ${this.config.WORKER_CONCURRENCY}`,
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
    this.taker.disconnect();
    this.logger.log(
      `${signal ?? 'shutdown'}: finishing ${this.locks.held.size} task(s) in flight, taking no new ones`,
    );
    const drained = Promise.all(this.slots).then(() => true);
    const grace = sleep(this.config.WORKER_SHUTDOWN_GRACE_MS).then(() => false);
    const finished = await Promise.race([drained, grace]);
    if (!finished) {
      this.logger.warn(
        `grace period over with ${this.locks.held.size} task(s) still running; putting them back in their queues`,
      );
      // Back to wait now, rather than left locked until they count as stalled.
      await Promise.all(
        [...this.locks.held].map(([job, token]) => job.moveToWait(token).catch(() => undefined)),
      );
    }
    // The quota settles of the last tasks, which their slots did not wait for.
    await this.housekeeping.settled();
    await this.workerRegistry.remove(this.id).catch(() => undefined);
    this.locks.stop();
    await Promise.all([...this.workers.values()].map((w) => w.close(!finished)));
    this.connection.disconnect();
  }

  /**
   * One slot: runs a task, and takes its next one with the task's completion (one round trip
   * per task); only when that finds none, or the task failed, does it take on its own, and
   * wait for work when every queue is empty.
   */
  private async runSlot(): Promise<void> {
    let failures = 0;
    let next: { job: Job<TaskEnvelope>; token: string } | undefined;
    while (next || this.accepting) {
      if (!next) {
        const token = this.newToken();
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
        if (!job) {
          await this.waitForWork();
          continue;
        }
        next = { job, token };
      }
      // A task taken with the last completion is run even if a SIGTERM came meanwhile: it is
      // locked by this worker, as one that getNextJob had just returned.
      next = await this.process(next.job, next.token);
    }
  }

  private newToken(): string {
    return `${this.id}:${this.tokenCounter++}`;
  }

  /** The first task in priority order, or undefined when every queue is empty (one script). */
  private async takeNext(token: string): Promise<Job<TaskEnvelope> | undefined> {
    return this.accepting ? this.taker.take(token) : undefined;
  }

  /** Blocks until any served queue signals new work, or IDLE_WAIT_S passes; shared by idle slots. */
  private waitForWork(): Promise<void> {
    this.wake ??= this.taker.waitForWork().finally(() => {
      this.wake = undefined;
    });
    return this.wake;
  }

  /**
   * The BullMQ workers (manual mode: they own the locks and the stalled checks) of the served
   * queues under `prefix`, with a TaskTaker and a blocking connection of their own.
   */
  private serve(prefix: string): ServedShard {
    const workers = this.queues.map((queue) => {
      const worker = new Worker<TaskEnvelope>(
        queue,
        null,
        {
          connection: this.connection,
          prefix,
          autorun: false,
          lockDuration: this.config.WORKER_LOCK_MS,
          stalledInterval: this.config.WORKER_STALLED_INTERVAL_MS,
          maxStalledCount: this.config.WORKER_MAX_STALLED,
          name: this.id,
        },
        // Without the blocking connection a BullMQ worker opens for its own fetch loop, which
        // a manual-mode worker never uses: this loop waits on one per shard, for all queues.
        (name, options) => createRedisBackend(name, options),
      );
      worker.on('error', (error) => this.logger.warn(`queue ${queue}: ${error.message}`));
      worker.on('stalled', (jobId) => {
        this.taskRun.stalled(worker, queue, jobId).catch(() => undefined);
      });
      this.workers.set(worker.qualifiedName, worker);
      void worker.startStalledCheckTimer();
      return worker;
    });
    const blocking = createRedisClient(this.config, {
      maxRetriesPerRequest: null,
      connectionName: `threadline-worker-wait:${this.id}`,
    });
    blocking.on('error', () => undefined);
    return {
      prefix,
      taker: new TaskTaker(this.connection, workers, {
        ms: this.config.WORKER_LOCK_MS,
        workerName: this.id,
      }),
      markers: workers.map((w) => w.keys.marker),
      blocking,
    };
  }

  /** Runs a task; returns the next one if its completion took one (while accepting). */
  private async process(
    job: Job<TaskEnvelope>,
    token: string,
  ): Promise<{ job: Job<TaskEnvelope>; token: string } | undefined> {
    this.locks.held.set(job, token);
    const nextToken = this.newToken();
    try {
      const next = await this.taskRun.run(job, token, (done, result) =>
        this.taker.complete(done, token, result, this.accepting ? nextToken : undefined),
      );
      return next ? { job: next, token: nextToken } : undefined;
    } catch (error) {
      this.logger.error(`task ${job.id}: ${(error as Error).message}`);
      return undefined;
    } finally {
      this.locks.held.delete(job);
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
        active: this.locks.held.size,
        started_at: this.startedAt,
        log_shipping: this.logShipping.status(),
      })
      .catch(() => undefined);
  }
}
