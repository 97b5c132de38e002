import { BullModule } from '@nestjs/bullmq';
import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { REDIS } from '../redis/redis.constants';
import type { RedisClient } from '../redis/redis-client';
import { AppConfig } from '../config/app-config';
import { ShardQueues } from './shard-queues';
import { FLOW_PRODUCER, TaskQueueRepository } from './task-queue.repository';

/**
 * The BullMQ queues (one per priority class on each shard: ShardQueues) and the flow producer
 * for parent/child tasks, which puts each flow under its parent's shard.
 */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [REDIS, AppConfig],
      useFactory: (redis: RedisClient, config: AppConfig) => ({
        connection: redis,
        prefix: config.keyPrefix,
      }),
    }),
    BullModule.registerFlowProducer({ name: FLOW_PRODUCER }),
  ],
  providers: [
    {
      provide: ShardQueues,
      inject: [REDIS, AppConfig],
      useFactory: (redis: RedisClient, config: AppConfig) => new ShardQueues(redis, config),
    },
    TaskQueueRepository,
  ],
  exports: [TaskQueueRepository, ShardQueues],
})
export class QueuesModule implements OnApplicationShutdown {
  constructor(@Inject(ShardQueues) private readonly queues: ShardQueues) {}

  async onApplicationShutdown(): Promise<void> {
    await this.queues.close();
  }
}
