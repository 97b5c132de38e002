import { Module } from '@nestjs/common';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { QueuesModule } from '../queues/queues.module';
import { QuotasModule } from '../quotas/quotas.module';
import { TaskTypesModule } from './task-types.module';
import { IdempotentSubmit } from './idempotent-submit';
import { TasksController } from './tasks.controller';
import { SubmissionChecker } from './submission/submission-checker';
import { TasksService } from './tasks.service';
import { ShardRouter } from './shard-router';
import { SubmitScript } from './submit-script';

@Module({
  imports: [QueuesModule, QuotasModule, TaskTypesModule, IdempotencyModule],
  controllers: [TasksController],
  providers: [TasksService, IdempotentSubmit, SubmissionChecker, SubmitScript, ShardRouter],
})
export class TasksModule {}
