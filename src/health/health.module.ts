import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ElasticsearchModule } from '../elasticsearch/elasticsearch.module';
import { EventLoopMonitor } from './event-loop-monitor';
import { HealthController } from './health.controller';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), ElasticsearchModule],
  controllers: [HealthController],
  providers: [EventLoopMonitor],
})
export class HealthModule {}
