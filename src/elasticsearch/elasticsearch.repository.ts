import type { Client } from '@elastic/elasticsearch';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { createElasticsearchClient } from './elasticsearch-client';

export type ClusterStatus = 'green' | 'yellow' | 'red';

/** Threadline's one way to Elasticsearch, through the official client. */
@Injectable()
export class ElasticsearchRepository implements OnModuleDestroy {
  private readonly client: Client;

  constructor(config: AppConfig) {
    this.client = createElasticsearchClient(config.ELASTICSEARCH_URL, {
      requestTimeoutMs: config.READY_TIMEOUT_MS,
    });
  }

  /** The cluster's health colour; rejects when Elasticsearch is unreachable. */
  async clusterStatus(signal?: AbortSignal): Promise<ClusterStatus> {
    const health = await this.client.cluster.health({}, { signal });
    return health.status.toLowerCase() as ClusterStatus;
  }

  /** Creates or replaces a composable index template (idempotent). */
  async putIndexTemplate(name: string, body: Record<string, unknown>): Promise<void> {
    await this.client.indices.putIndexTemplate({ name, ...body });
  }

  /** Which of the component templates `names` the cluster has (Elastic's own, say). */
  async componentTemplatesPresent(names: readonly string[]): Promise<string[]> {
    const present = await Promise.all(
      names.map((name) => this.client.cluster.existsComponentTemplate({ name })),
    );
    return names.filter((_, i) => present[i]);
  }

  async onModuleDestroy(): Promise<void> {
    await this.client.close();
  }
}
