import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { REDIS } from './redis.constants';
import { createRedisClient, type RedisClient } from './redis-client';
import { RedisRepository } from './redis.repository';

/**
 * The shared Redis client (one Redis, or a cluster: see createRedisClient). It connects lazily and keeps reconnecting in the background, so a
 * Redis restart heals without a process restart; while it is down, commands fail at once
 * (no offline queue) instead of piling up.
 */
@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [AppConfig],
      useFactory: (config: AppConfig): RedisClient => {
        const client = createRedisClient(config, {
          lazyConnect: true,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
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
  constructor(@Inject(REDIS) private readonly client: RedisClient) {}

  onApplicationShutdown(): void {
    this.client.disconnect();
  }
}
