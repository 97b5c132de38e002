import { Inject, Module, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { TracePageController } from './page/trace-page.controller';
import { TraceSearch } from './trace-search';
import { TracesController } from './traces.controller';

/**
 * The flow of any ID over HTTP: as JSON (`/api/v1/traces/:id`) and as the trace page (`/trace`).
 * The CLI builds the same TraceSearch itself.
 */
@Module({
  providers: [
    {
      provide: TraceSearch,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        TraceSearch.connect(config.ELASTICSEARCH_URL, config.LOG_DATA_STREAM),
    },
  ],
  controllers: [TracesController, TracePageController],
})
export class TracesModule implements OnModuleDestroy {
  constructor(@Inject(TraceSearch) private readonly search: TraceSearch) {}

  onModuleDestroy(): Promise<void> {
    return this.search.close();
  }
}
