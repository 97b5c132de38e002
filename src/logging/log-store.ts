import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppConfig } from '../config/app-config';
import { ElasticsearchRepository } from '../elasticsearch/elasticsearch.repository';
import type { AppLogger } from './logger';
import { PINO } from './logging.module';
import { EVENT_ACTION } from './event-actions.mjs';

/** Where the committed template lives, from src/ or dist/ alike. */
const TEMPLATE_FILE = join(__dirname, '..', '..', 'elk', 'elasticsearch', 'index-template.json');
const RETRY_MS = 30_000;

/**
 * The log data stream's layout in Elasticsearch: installs the index template of
 * `elk/elasticsearch/index-template.json`, named after LOG_DATA_STREAM and with its retention.
 * The API does it at start-up (ES_SETUP_ON_START), retrying while Elasticsearch is away, by
 * importing {@link LogStoreModule}; `npm run es:setup` does it on demand.
 * @see docs/elasticsearch-layout.md
 */
@Injectable()
export class LogStore implements OnApplicationBootstrap, OnModuleDestroy {
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly elasticsearch: ElasticsearchRepository,
    private readonly config: AppConfig,
    @Inject(PINO) private readonly log: AppLogger,
  ) {}

  /** The template body for this configuration. */
  template(): Record<string, unknown> {
    const template = JSON.parse(readFileSync(TEMPLATE_FILE, 'utf8')) as Record<string, unknown> & {
      template: Record<string, unknown>;
    };
    delete template._comment;
    return {
      ...template,
      index_patterns: [this.config.LOG_DATA_STREAM],
      template: { ...template.template, lifecycle: { data_retention: this.config.LOG_RETENTION } },
    };
  }

  /** Installs or updates the template; safe to repeat. */
  async install(): Promise<void> {
    await this.elasticsearch.putIndexTemplate(this.config.LOG_DATA_STREAM, this.template());
  }

  onApplicationBootstrap(): void {
    if (this.config.ES_SETUP_ON_START) void this.installUntilDone();
  }

  onModuleDestroy(): void {
    clearTimeout(this.retry);
  }

  private async installUntilDone(): Promise<void> {
    try {
      await this.install();
      this.log.info(
        { 'event.action': EVENT_ACTION.esTemplateInstalled },
        `index template for ${this.config.LOG_DATA_STREAM} installed`,
      );
    } catch (error) {
      this.log.warn(
        {
          'event.action': EVENT_ACTION.esTemplateFailed,
          'error.message': (error as Error).message,
        },
        `could not install the index template for ${this.config.LOG_DATA_STREAM}; retrying in ${RETRY_MS / 1000} s (or run npm run es:setup)`,
      );
      this.retry = setTimeout(() => void this.installUntilDone(), RETRY_MS);
    }
  }
}
