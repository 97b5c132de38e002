import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { REDIS } from '../redis/redis.constants';
import type { RedisClient } from '../redis/redis-client';
import { AppConfig } from '../config/app-config';
import { TASK_QUEUES } from '../config/queue-names';
import { FLOW_PRODUCER, TaskQueueRepository } from './task-queue.repository';

/** The BullMQ queues (one per priority class) and the flow producer for parent/child tasks. */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [REDIS, AppConfig],
      useFactory: (redis: RedisClient, config: AppConfig) => ({
        connection: redis,
        prefix: config.keyPrefix,
      }),
    }),
    BullModule.registerQueue(...TASK_QUEUES.map((name) => ({ name }))),
    BullModule.registerFlowProducer({ name: FLOW_PRODUCER }),
  ],
  providers: [TaskQueueRepository],
  exports: [TaskQueueRepository],
})
export class QueuesModule {}
