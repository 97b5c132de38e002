import { Module } from '@nestjs/common';
import { QueuesModule } from '../queues/queues.module';
import { WorkerRegistryModule } from '../workers/worker-registry.module';
import { QueuesController } from './queues.controller';

@Module({
  imports: [QueuesModule, WorkerRegistryModule],
  controllers: [QueuesController],
})
export class MonitoringModule {}
