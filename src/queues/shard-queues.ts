import { Queue } from 'bullmq';
import { AppConfig } from '../config/app-config';
import { TASK_QUEUES, type TaskQueue } from '../config/queue-names';
import type { RedisClient } from '../redis/redis-client';

/** The three priority queues of one key prefix. */
export type QueueGroup = Readonly<Record<TaskQueue, Queue>>;

/**
 * The BullMQ queues of every shard (REDIS_SHARDS groups of `high`, `medium` and `low`, each
 * group under its shard's key prefix), and of the unsharded layout while it is drained. Built
 * here rather than registered with @nestjs/bullmq, whose queues are one per name, fixed at
 * import: a shard count is read from the environment.
 * @see docs/scaling.md
 */
export class ShardQueues {
  private readonly groups = new Map<string, QueueGroup>();

  constructor(
    connection: RedisClient,
    private readonly config: AppConfig,
  ) {
    for (const prefix of config.shards.served) {
      const group = Object.fromEntries(
        TASK_QUEUES.map((name) => [name, new Queue(name, { connection, prefix })]),
      ) as Record<TaskQueue, Queue>;
      this.groups.set(prefix, group);
    }
  }

  /** The queues under `prefix`, one of the shards' or the legacy layout's. */
  of(prefix: string): QueueGroup {
    const group = this.groups.get(prefix);
    if (!group) throw new Error(`no queues under the key prefix ${prefix}`);
    return group;
  }

  /** The queues of task `id`'s shard. */
  ofTask(id: string): QueueGroup {
    return this.of(this.config.shards.prefixOfTask(id));
  }

  /** Every queue group, shard by shard, with its prefix. */
  entries(): [prefix: string, group: QueueGroup][] {
    return [...this.groups];
  }

  /** Every queue of every group. */
  all(): Queue[] {
    return [...this.groups.values()].flatMap((group) => TASK_QUEUES.map((name) => group[name]));
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((queue) => queue.close()));
  }
}
