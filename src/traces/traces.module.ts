import { Inject, Module, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { FlowSearch } from './flows/flow-search';
import { FlowsController } from './flows/flows.controller';
import { TracePageController } from './page/trace-page.controller';
import { TraceSearch } from './trace-search';
import { TracesController } from './traces.controller';

/**
 * The flow of any ID over HTTP: as JSON (`/api/v1/traces/:id`) and as the trace page (`/trace`);
 * and the flows of a time window (`/api/v1/flows`). The CLI builds the same searches itself.
 */
@Module({
  providers: [
    {
      provide: TraceSearch,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        TraceSearch.connect(config.ELASTICSEARCH_URL, config.LOG_DATA_STREAM),
    },
    {
      provide: FlowSearch,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        FlowSearch.connect(config.ELASTICSEARCH_URL, config.LOG_DATA_STREAM),
    },
  ],
  controllers: [TracesController, FlowsController, TracePageController],
})
export class TracesModule implements OnModuleDestroy {
  constructor(
    @Inject(TraceSearch) private readonly traces: TraceSearch,
    @Inject(FlowSearch) private readonly flows: FlowSearch,
  ) {}

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.traces.close(), this.flows.close()]);
  }
}
