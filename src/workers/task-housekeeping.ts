import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { TaskQueueRepository } from '../queues/task-queue.repository';
import { QuotaRepository } from '../quotas/quota.repository';
import { RedisRepository } from '../redis/redis.repository';
import type { TaskEnvelope } from '../tasks/task';
import type { Job } from 'bullmq';

/** Claims looked at per sweep: bounds one sweep's work whatever the backlog. */
const SWEEP_BATCH = 200;

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
  }

  /** How often a worker tries to sweep: often enough to expire tasks near their time. */
  get intervalMs(): number {
    return Math.max(1000, Math.min(30_000, this.quotas.recheckMs / 4));
  }

  /**
   * A task's last run has ended (completed, or failed with no retry left): its input is no
   * longer needed, and it no longer counts against its client's quota. A child's failure
   * fails its batch, so that gives back the batch's claim.
   */
  async ended(job: Job<TaskEnvelope>, outcome: 'completed' | 'failed'): Promise<void> {
    const { meta } = job.data;
    if (job.data.input !== null) {
      await job.updateData({ ...job.data, input: null }).catch(() => undefined);
    }
    if (!meta.client || !job.id) return;
    const parentId = job.parentKey?.split(':').pop();
    const claimed = parentId === undefined ? job.id : outcome === 'failed' ? parentId : undefined;
    if (claimed) await this.quotas.release(meta.client, claimed).catch(() => undefined);
  }

  /** One pass over the claims due for a check; exported for tests. */
  async sweep(now = Date.now()): Promise<{ released: number; expired: number }> {
    const counts = { released: 0, expired: 0 };
    if (!(await this.lease())) return counts;
    const maxWaitMs = this.config.TASK_MAX_WAIT_S * 1000;
    for (const { client, taskId } of await this.quotas.due(SWEEP_BATCH, now)) {
      const task = await this.queue.find(taskId);
      if (
        !task ||
        task.status === 'completed' ||
        task.status === 'failed' ||
        task.status === 'cancelled'
      ) {
        if (task) await this.queue.dropInput(taskId);
        if (await this.quotas.release(client, taskId)) counts.released++;
        continue;
      }
      const waited = now - Date.parse(task.created_at);
      if (task.status === 'queued' && task.attempts === 0 && waited > maxWaitMs) {
        const outcome = await this.queue.expire(taskId, {
          type: TASK_EXPIRED,
          message: expiredMessage(waited, this.config.TASK_MAX_WAIT_S),
        });
        if (outcome === 'cancelled') {
          await this.quotas.release(client, taskId);
          counts.expired++;
          continue;
        }
      }
      await this.quotas.checkLater(client, taskId);
    }
    if (counts.expired > 0 || counts.released > 0) {
      this.logger.log(
        `sweep: ${counts.expired} task(s) expired after TASK_MAX_WAIT_S, ${counts.released} ended task(s) gave back their quota`,
      );
    }
    return counts;
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
