import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { RedisUnavailableError } from '../redis/redis-unavailable.error';

/** How long a shard that failed a submission is passed over by submissions free to go elsewhere. */
export const SHARD_DOWN_MS = 1000;

/**
 * Picks the shard of a new task that no Idempotency-Key pins: its random id's, unless that
 * shard failed a submission in the last SHARD_DOWN_MS (its master failing over), then a live
 * one. The choice is made before anything is sent, so a task is never written to two shards;
 * a submission that fails is answered 503 as before, and its shard passed over for a while,
 * so that only the submissions in flight when a master dies, and one probe a second, meet it.
 * @see docs/scaling.md#when-a-master-dies
 */
@Injectable()
export class ShardRouter {
  private readonly downUntil: number[];

  constructor(private readonly config: AppConfig) {
    this.downUntil = config.shards.prefixes.map(() => 0);
  }

  /** A new task id, on a shard that has not failed lately when there is one. */
  newTaskId(now = Date.now()): string {
    const { shards } = this.config;
    const id = randomUUID();
    const drawn = shards.ofTask(id);
    if (this.downUntil[drawn] <= now) return id;
    const live = this.downUntil.flatMap((until, shard) => (until <= now ? [shard] : []));
    if (live.length === 0) return id;
    return shards.place(id, live[Number.parseInt(id.slice(9, 13), 16) % live.length]);
  }

  /** Notes how the submission of task `id` went: a Redis outage passes its shard over. */
  failed(id: string, error: unknown, now = Date.now()): void {
    if (error instanceof RedisUnavailableError) {
      this.downUntil[this.config.shards.ofTask(id)] = now + SHARD_DOWN_MS;
    }
  }
}
