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
import { LogStreams } from '../config/data-streams';
import type { AppLogger } from './logger';
import { PINO } from './logging.module';
import { EVENT_ACTION } from './event-actions.mjs';

/** Where the committed template lives, from src/ or dist/ alike. */
const TEMPLATE_FILE = join(__dirname, '..', '..', 'elk', 'elasticsearch', 'index-template.json');
const RETRY_MS = 30_000;
/**
 * Elastic's component templates for logs data streams (ECS field mappings, logs index
 * settings), composed where the cluster has them: every 8.x cluster with its stack templates
 * on. Threadline's own mappings and settings come after them, and win.
 */
export const ELASTIC_COMPONENTS = ['logs@settings', 'ecs@mappings'] as const;

/**
 * The log data streams' layout in Elasticsearch: installs the index template of
 * `elk/elasticsearch/index-template.json`, named after LOG_DATA_STREAM, for every source's
 * stream (LogStreams) and the family's own, with its retention, composing Elastic's component
 * templates where the cluster has them.
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

  /**
   * The template body for this configuration, composing `composedOf` (those of
   * ELASTIC_COMPONENTS the cluster has).
   */
  template(composedOf: readonly string[] = []): Record<string, unknown> {
    const template = JSON.parse(readFileSync(TEMPLATE_FILE, 'utf8')) as Record<string, unknown> & {
      template: Record<string, unknown>;
    };
    delete template._comment;
    const streams = new LogStreams(this.config.LOG_DATA_STREAM);
    return {
      ...template,
      // Every source's stream, and the family's own, which may hold lines from before.
      index_patterns: streams.patterns,
      composed_of: [...composedOf],
      template: { ...template.template, lifecycle: { data_retention: this.config.LOG_RETENTION } },
    };
  }

  /** Installs or updates the template; safe to repeat. */
  async install(): Promise<void> {
    const present = await this.elasticsearch.componentTemplatesPresent(ELASTIC_COMPONENTS);
    await this.elasticsearch.putIndexTemplate(this.config.LOG_DATA_STREAM, this.template(present));
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
