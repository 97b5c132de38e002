import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import type { LogShippingStatus } from '../logging/log-transport-handle';
import type { TaskQueue } from '../config/queue-names';
import { RedisRepository } from '../redis/redis.repository';

/** What a worker process says about itself in its heartbeat. */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  queues: TaskQueue[];
  concurrency: number;
  active: number;
  started_at: string;
  last_seen: string;
  /** The worker's log shipper: delivered, spooled, dead-lettered and dropped lines. */
  log_shipping?: LogShippingStatus;
}

/** A worker silent for this long is no longer listed. */
export const WORKER_TTL_MS = 15_000;

/** Heartbeats of the worker processes, so that the API can list who is working. */
@Injectable()
export class WorkerRegistryRepository {
  private readonly registryKey: string;

  constructor(
    private readonly redis: RedisRepository,
    private readonly config: AppConfig,
  ) {
    this.registryKey = `${config.keyPrefix}:workers`;
  }

  private infoKey(id: string): string {
    return `${this.config.keyPrefix}:worker:${id}`;
  }

  async heartbeat(info: Omit<WorkerInfo, 'last_seen'>): Promise<void> {
    const now = Date.now();
    const record: WorkerInfo = { ...info, last_seen: new Date(now).toISOString() };
    await this.redis.run((client) =>
      client
        .multi()
        .set(this.infoKey(info.id), JSON.stringify(record), 'PX', WORKER_TTL_MS)
        .zadd(this.registryKey, now, info.id)
        .zremrangebyscore(this.registryKey, 0, now - WORKER_TTL_MS)
        .exec(),
    );
  }

  async remove(id: string): Promise<void> {
    await this.redis.run((client) =>
      client.multi().del(this.infoKey(id)).zrem(this.registryKey, id).exec(),
    );
  }

  /** Workers heard from within the last WORKER_TTL_MS. */
  async list(): Promise<WorkerInfo[]> {
    return this.redis.run(async (client) => {
      const ids = await client.zrangebyscore(this.registryKey, Date.now() - WORKER_TTL_MS, '+inf');
      if (ids.length === 0) return [];
      const records = await client.mget(ids.map((id) => this.infoKey(id)));
      return records.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as WorkerInfo);
    });
  }
}
