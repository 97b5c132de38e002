import { Module } from '@nestjs/common';
import { MetricsController } from '../metrics/metrics.controller';
import { QueuesModule } from '../queues/queues.module';
import { WorkerRegistryModule } from '../workers/worker-registry.module';
import { QueueDepthMetrics } from './queue-depth.metrics';
import { QueuesController } from './queues.controller';

@Module({
  imports: [QueuesModule, WorkerRegistryModule],
  controllers: [QueuesController, MetricsController],
  providers: [QueueDepthMetrics],
})
export class MonitoringModule {}
