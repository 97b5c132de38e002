import { Module } from '@nestjs/common';
import { ElasticsearchRepository } from './elasticsearch.repository';

/** Elasticsearch for the API's own use (health checks, the index template). */
@Module({
  providers: [ElasticsearchRepository],
  exports: [ElasticsearchRepository],
})
export class ElasticsearchModule {}
