import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { MetricsController } from '../metrics/metrics.controller';
import { QueuesModule } from '../queues/queues.module';
import { WorkerRegistryModule } from '../workers/worker-registry.module';
import { QueueDepthMetrics } from './queue-depth.metrics';
import { QueuesController } from './queues.controller';

@Module({
  imports: [AuthModule, QueuesModule, WorkerRegistryModule],
  controllers: [QueuesController, MetricsController],
  providers: [QueueDepthMetrics],
})
export class MonitoringModule {}
