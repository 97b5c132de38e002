import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from '../redis/redis.constants';
import { AppConfig } from '../config/app-config';
import { TASK_QUEUES } from './queue-names';
import { FLOW_PRODUCER, TaskQueueRepository } from './task-queue.repository';

/** The BullMQ queues (one per priority class) and the flow producer for parent/child tasks. */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [REDIS, AppConfig],
      useFactory: (redis: Redis, config: AppConfig) => ({
        connection: redis,
        prefix: config.REDIS_PREFIX,
      }),
    }),
    BullModule.registerQueue(...TASK_QUEUES.map((name) => ({ name }))),
    BullModule.registerFlowProducer({ name: FLOW_PRODUCER }),
  ],
  providers: [TaskQueueRepository],
  exports: [TaskQueueRepository],
})
export class QueuesModule {}
