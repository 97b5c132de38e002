import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { TaskQueueRepository } from '../queues/task-queue.repository';
import { QuotaRepository, TASK_RECORD_BYTES } from '../quotas/quota.repository';
import { RedisRepository } from '../redis/redis.repository';
import type { TaskEnvelope } from '../queues/task';
import type { Job } from 'bullmq';

/** Claims looked at per pass of a sweep, and passes per sweep: bounds one sweep's work. */
const SWEEP_BATCH = 500;
const SWEEP_PASSES = 20;

/** What a failed task keeps besides its error message: BullMQ's stack trace of it. */
const FAILURE_TRACE_BYTES = 2048;

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null));
}

/** The class name a client sees for a task that waited too long (see TaskExpiredError). */
export const TASK_EXPIRED = 'TaskExpired';

/** The error of a task that waited longer than TASK_MAX_WAIT_S. */
export function expiredMessage(waitedMs: number, maxWaitS: number): string {
  return `the task waited ${Math.round(waitedMs / 1000)} s in its queue without a worker taking it, longer than TASK_MAX_WAIT_S (${maxWaitS} s); submit it again if it is still wanted`;
}

/**
 * What keeps Redis from holding more than it should, in each worker:
 * - when a task ends for good, its input is dropped and its client's quota given back;
 * - a sweep (one worker at a time, under a Redis lease) gives back the quota of tasks that
 *   ended without it (a worker killed at the wrong moment) and expires tasks that have waited
 *   longer than TASK_MAX_WAIT_S, as failures the client can read.
 * @see docs/security.md#quotas
 */
@Injectable()
export class TaskHousekeeping implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('housekeeping');
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  /** Claims being settled, off the task slots' path: awaited at shutdown. */
  private readonly settling = new Set<Promise<unknown>>();
  private readonly token = randomUUID();

  constructor(
    private readonly queue: TaskQueueRepository,
    private readonly quotas: QuotaRepository,
    private readonly redis: RedisRepository,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .then(() => undefined)
        .catch((error: Error) => this.logger.warn(`sweep failed: ${error.message}`))
        .finally(() => (this.sweeping = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
    await this.settled();
  }

  /** Resolves when every claim whose settling has begun is settled (or has failed to be). */
  async settled(): Promise<void> {
    while (this.settling.size > 0) await Promise.all(this.settling);
  }

  /** How often a worker tries to sweep: often enough to expire tasks near their time. */
  get intervalMs(): number {
    return Math.max(1000, Math.min(30_000, this.quotas.recheckMs / 4));
  }

  /**
   * A task's last run has ended (completed, or failed with no retry left): its input is no
   * longer needed, and its claim is settled: its tasks no longer count, and what Redis keeps
   * of it counts until its result expires. A child's failure fails its batch, so that settles
   * the batch's claim. Resolves once the input is dropped (a completion drops it itself); the
   * claim is settled in the background, so that the task's slot goes on to its next task
   * without waiting for that round trip (see {@link settled}). A settle lost to a crash or to
   * Redis is made by the sweep, which finds the task ended and settles its claim then.
   */
  async ended(job: Job<TaskEnvelope>, outcome: 'completed' | 'failed'): Promise<void> {
    // A job queued without Threadline's envelope (by hand) has no input to drop and no claim.
    const meta = job.data?.meta as TaskEnvelope['meta'] | undefined;
    if (!meta) return;
    if (job.data.input !== null) {
      await job.updateData({ ...job.data, input: null }).catch(() => undefined);
    }
    if (!meta.client || !job.id) return;
    const parentId = job.parentKey?.split(':').pop();
    const claimed = parentId === undefined ? job.id : outcome === 'failed' ? parentId : undefined;
    if (!claimed) return;
    // A batch's result holds its children's, which are kept too: count it twice.
    const kept =
      outcome === 'completed'
        ? jsonBytes(job.returnvalue) * (meta.children === undefined ? 1 : 2)
        : jsonBytes(job.failedReason) + FAILURE_TRACE_BYTES;
    const settling: Promise<unknown> = this.settle(meta.client, claimed, kept)
      .catch(() => undefined)
      .finally(() => this.settling.delete(settling));
    this.settling.add(settling);
  }

  /**
   * One sweep: drops the bytes of results that have expired, settles the claims of tasks that
   * ended unseen, and expires tasks queued longer than TASK_MAX_WAIT_S; exported for tests.
   */
  async sweep(now = Date.now()): Promise<{ settled: number; expired: number; dropped: number }> {
    const counts = { settled: 0, expired: 0, dropped: 0 };
    if (!(await this.lease())) return counts;
    for (let pass = 0; pass < SWEEP_PASSES; pass++) {
      const { dropped, open } = await this.quotas.due(SWEEP_BATCH, now);
      counts.dropped += dropped;
      for (const { client, taskId } of open) await this.check(client, taskId, now, counts);
      if (dropped + open.length < SWEEP_BATCH) break;
    }
    if (counts.expired > 0 || counts.settled > 0) {
      this.logger.log(
        `sweep: ${counts.expired} task(s) expired after TASK_MAX_WAIT_S, ${counts.settled} ended unseen and gave back their quota`,
      );
    }
    return counts;
  }

  /** Looks at one claim whose task is not known to have ended. */
  private async check(
    client: string,
    taskId: string,
    now: number,
    counts: { settled: number; expired: number },
  ): Promise<void> {
    const task = await this.queue.find(taskId);
    if (!task) {
      await this.quotas.release(client, taskId);
      counts.settled++;
      return;
    }
    if (task.status === 'completed' || task.status === 'failed' || task.status === 'cancelled') {
      await this.queue.dropInput(taskId);
      if (await this.settle(client, taskId, jsonBytes(task.result ?? task.error))) counts.settled++;
      return;
    }
    const waited = now - Date.parse(task.created_at);
    if (
      task.status === 'queued' &&
      task.attempts === 0 &&
      waited > this.config.TASK_MAX_WAIT_S * 1000
    ) {
      const error = {
        type: TASK_EXPIRED,
        message: expiredMessage(waited, this.config.TASK_MAX_WAIT_S),
      };
      if ((await this.queue.expire(taskId, error)) === 'cancelled') {
        await this.settle(client, taskId, jsonBytes(error));
        counts.expired++;
        return;
      }
    }
    await this.quotas.checkLater(client, taskId);
  }

  private settle(client: string, taskId: string, bytes: number): Promise<boolean> {
    return this.quotas.settle(client, taskId, {
      bytes,
      bytesPerTask: TASK_RECORD_BYTES,
    });
  }

  /** Holds the sweep for one interval: one worker sweeps at a time. */
  private async lease(): Promise<boolean> {
    const key = `${this.config.keyPrefix}:sweep-lease`;
    const taken = await this.redis.run((client) =>
      client.set(key, this.token, 'PX', this.intervalMs, 'NX'),
    );
    return taken === 'OK';
  }
}
