import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';

/**
 * Threadline's one way to Redis. The connection is made on first use and keeps reconnecting
 * in the background, so a Redis restart heals without a process restart.
 */
@Injectable()
export class RedisRepository implements OnModuleDestroy {
  private readonly client: Redis;

  constructor(config: AppConfig) {
    this.client = new Redis(config.REDIS_URL, {
      lazyConnect: true,
      // Fail a command at once while disconnected instead of queueing it forever.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
      connectionName: 'threadline-api',
    });
    // Connection errors are reported through ping(); without a listener ioredis prints them.
    this.client.on('error', () => undefined);
  }

  /** Round trip to Redis; rejects when it is unreachable. */
  async ping(): Promise<void> {
    if (this.client.status === 'wait') await this.client.connect();
    if (this.client.status !== 'ready') {
      throw new Error(`not connected (connection is ${this.client.status})`);
    }
    await this.client.ping();
  }

  async onModuleDestroy(): Promise<void> {
    this.client.disconnect();
    return Promise.resolve();
  }
}
