import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { LoggingModule } from '../logging/logging.module';
import { MetricsModule } from '../metrics/metrics.module';
import { QueuesModule } from '../queues/queues.module';
import { QuotasModule } from '../quotas/quotas.module';
import { RedisModule } from '../redis/redis.module';
import { TaskTypesModule } from '../tasks/task-types.module';
import { PriorityWorker } from './priority-worker';
import { TaskHousekeeping } from './task-housekeeping';
import { TaskRun } from './task-run';
import { WorkerRegistryModule } from './worker-registry.module';

/** A worker process: no HTTP server, only the task loop. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot('threadline-worker'),
        MetricsModule.forRoot(),
        RedisModule,
        QueuesModule,
        QuotasModule,
        TaskTypesModule,
        WorkerRegistryModule,
      ],
      providers: [PriorityWorker, TaskRun, TaskHousekeeping],
    };
  }
}
