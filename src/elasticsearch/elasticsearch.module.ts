import { Module } from '@nestjs/common';
import { ElasticsearchRepository } from './elasticsearch.repository';
import { LogStore } from './log-store';

@Module({
  providers: [ElasticsearchRepository, LogStore],
  exports: [ElasticsearchRepository, LogStore],
})
export class ElasticsearchModule {}
