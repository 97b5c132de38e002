import { Client } from '@elastic/elasticsearch';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { elasticsearchNodes } from './nodes';

export type ClusterStatus = 'green' | 'yellow' | 'red';

/** Threadline's one way to Elasticsearch, through the official client. */
@Injectable()
export class ElasticsearchRepository implements OnModuleDestroy {
  private readonly client: Client;

  constructor(config: AppConfig) {
    const nodes = elasticsearchNodes(config.ELASTICSEARCH_URL);
    this.client = new Client({
      node: nodes,
      requestTimeout: config.READY_TIMEOUT_MS,
      // One node that is down is no outage of a cluster: a request it refuses goes to the next.
      maxRetries: nodes.length - 1,
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

  async onModuleDestroy(): Promise<void> {
    await this.client.close();
  }
}
