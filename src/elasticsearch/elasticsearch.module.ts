import { Module } from '@nestjs/common';
import { ElasticsearchRepository } from './elasticsearch.repository';

@Module({
  providers: [ElasticsearchRepository],
  exports: [ElasticsearchRepository],
})
export class ElasticsearchModule {}
