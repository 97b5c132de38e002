import { Module } from '@nestjs/common';
import { ElasticsearchModule } from '../elasticsearch/elasticsearch.module';
import { LogStore } from './log-store';

/**
 * The log data stream's index template ({@link LogStore}). A module that imports this one
 * installs the template at start-up when ES_SETUP_ON_START is on: the API does, and
 * `npm run es:setup` uses it to install on demand.
 * @see docs/elasticsearch-layout.md
 */
@Module({
  imports: [ElasticsearchModule],
  providers: [LogStore],
  exports: [LogStore],
})
export class LogStoreModule {}
