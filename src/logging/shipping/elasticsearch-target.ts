import { type Client, errors } from '@elastic/elasticsearch';
import { createElasticsearchClient } from '../../elasticsearch/elasticsearch-client';
import { describeNodes, elasticsearchNodes } from '../../elasticsearch/nodes';
import {
  type EntryResult,
  type LogEntry,
  type ShippingTarget,
  TargetRequestError,
} from './shipping-target';

interface BulkResponse {
  items?: Record<string, EntryResult>[];
}

const NEWLINE = Buffer.from('\n');

/**
 * Elasticsearch as a {@link ShippingTarget}: one `_bulk` request of `create` entries per batch,
 * into one data stream, with each entry's id as `_id` (so that a resend answers 409).
 */
export class ElasticsearchTarget implements ShippingTarget {
  private readonly client: Client;
  readonly name = 'Elasticsearch';
  readonly description: string;

  /**
   * @param url ELASTICSEARCH_URL: one node, or several of one cluster ({@link elasticsearchNodes}).
   */
  constructor(
    url: string,
    private readonly dataStream: string,
    requestTimeoutMs = 30_000,
  ) {
    // The shipper retries by itself, in order, from the spool: the client must not.
    this.client = createElasticsearchClient(url, { requestTimeoutMs, retries: 'none' });
    this.description = `${dataStream} at ${describeNodes(elasticsearchNodes(url))}`;
  }

  async send(entries: readonly LogEntry[]): Promise<EntryResult[]> {
    let response: BulkResponse;
    try {
      response = await this.client.transport.request<BulkResponse>({
        method: 'POST',
        path: `/${encodeURIComponent(this.dataStream)}/_bulk`,
        // Each item's status and error, not its index, version, shards and sequence numbers.
        querystring: { filter_path: 'items.*.status,items.*.error' },
        bulkBody: bulkBody(entries),
      });
    } catch (error) {
      throw asTargetRequestError(error);
    }
    return (response.items ?? []).map((item) => {
      const result = Object.values(item)[0];
      return result ? { status: result.status, error: result.error } : { status: 500 };
    });
  }

  /** Lines wait for the data stream, or an index template that makes it, to exist. */
  async missing(): Promise<string | undefined> {
    try {
      if (await this.client.indices.exists({ index: this.dataStream })) return undefined;
      if (await this.client.indices.existsIndexTemplate({ name: this.dataStream }))
        return undefined;
    } catch (error) {
      throw asTargetRequestError(error);
    }
    return `no index template or data stream for ${this.description}: run npm run es:setup (or start the API with ES_SETUP_ON_START=true)`;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** The `_bulk` body of entries: a `create` action with the entry's id, then the document. */
export function bulkBody(entries: readonly LogEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const { id, document } of entries) {
    parts.push(Buffer.from(`{"create":{"_id":${JSON.stringify(id)}}}\n`), document, NEWLINE);
  }
  return Buffer.concat(parts);
}

function asTargetRequestError(error: unknown): TargetRequestError {
  if (error instanceof errors.ResponseError) {
    const reason =
      typeof error.body === 'object' ? JSON.stringify(error.body).slice(0, 300) : error.message;
    return new TargetRequestError(
      `Elasticsearch answered ${error.statusCode}: ${reason}`,
      error.statusCode,
    );
  }
  if (error instanceof Error) return new TargetRequestError(`${error.name}: ${error.message}`);
  return new TargetRequestError(String(error));
}
