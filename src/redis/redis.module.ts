import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { REDIS } from './redis.constants';
import { RedisRepository } from './redis.repository';

/**
 * The shared Redis client. It connects lazily and keeps reconnecting in the background, so a
 * Redis restart heals without a process restart; while it is down, commands fail at once
 * (no offline queue) instead of piling up.
 */
@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [AppConfig],
      useFactory: (config: AppConfig): Redis => {
        const client = new Redis(config.REDIS_URL, {
          lazyConnect: true,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
          connectionName: 'threadline',
        });
        // Failures surface through the callers; without a listener ioredis prints each one.
        client.on('error', () => undefined);
        return client;
      },
    },
    RedisRepository,
  ],
  exports: [REDIS, RedisRepository],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly client: Redis) {}

  onApplicationShutdown(): void {
    this.client.disconnect();
  }
}
