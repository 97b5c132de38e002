import { Client, errors } from '@elastic/elasticsearch';
import { describeNodes, elasticsearchNodes } from '../../elasticsearch/nodes';

/** Elasticsearch's answer for one document of a `_bulk` request. */
export interface BulkItemResult {
  status: number;
  error?: { type: string; reason: string };
}

/** A whole `_bulk` request failed: nothing of it can be assumed stored. */
export class BulkRequestError extends Error {
  constructor(
    message: string,
    /** HTTP status, when Elasticsearch answered at all. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Where the shipper delivers: Elasticsearch's `_bulk` API for one data stream. */
export interface BulkTarget {
  /** Sends a `_bulk` body of `create` entries; rejects with {@link BulkRequestError}. */
  bulk(body: Buffer): Promise<BulkItemResult[]>;
  /** Whether the data stream, or an index template that makes it, exists. */
  ready(): Promise<boolean>;
  readonly description: string;
  close(): Promise<void>;
}

interface BulkResponse {
  items?: Record<string, BulkItemResult>[];
}

/** The {@link BulkTarget} of a real Elasticsearch, through the official client. */
export class ElasticsearchBulkTarget implements BulkTarget {
  private readonly client: Client;
  readonly description: string;

  /**
   * @param url ELASTICSEARCH_URL: one node, or several of one cluster ({@link elasticsearchNodes}).
   */
  constructor(
    url: string,
    private readonly dataStream: string,
    requestTimeoutMs = 30_000,
  ) {
    const nodes = elasticsearchNodes(url);
    // The shipper retries by itself, in order, from the spool: the client must not. Its pool
    // still marks a node that fails to connect as dead, so the next attempt goes to another.
    this.client = new Client({ node: nodes, requestTimeout: requestTimeoutMs, maxRetries: 0 });
    this.description = `${dataStream} at ${describeNodes(nodes)}`;
  }

  async bulk(body: Buffer): Promise<BulkItemResult[]> {
    let response: BulkResponse;
    try {
      response = await this.client.transport.request<BulkResponse>({
        method: 'POST',
        path: `/${encodeURIComponent(this.dataStream)}/_bulk`,
        // Each item's status and error, not its index, version, shards and sequence numbers.
        querystring: { filter_path: 'items.*.status,items.*.error' },
        bulkBody: body,
      });
    } catch (error) {
      throw asBulkRequestError(error);
    }
    return (response.items ?? []).map((item) => {
      const result = Object.values(item)[0];
      return result ? { status: result.status, error: result.error } : { status: 500 };
    });
  }

  async ready(): Promise<boolean> {
    try {
      if (await this.client.indices.exists({ index: this.dataStream })) return true;
      return await this.client.indices.existsIndexTemplate({ name: this.dataStream });
    } catch (error) {
      throw asBulkRequestError(error);
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

function asBulkRequestError(error: unknown): BulkRequestError {
  if (error instanceof errors.ResponseError) {
    const reason =
      typeof error.body === 'object' ? JSON.stringify(error.body).slice(0, 300) : error.message;
    return new BulkRequestError(
      `Elasticsearch answered ${error.statusCode}: ${reason}`,
      error.statusCode,
    );
  }
  if (error instanceof Error) return new BulkRequestError(`${error.name}: ${error.message}`);
  return new BulkRequestError(String(error));
}
