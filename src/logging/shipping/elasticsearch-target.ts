import { type Client, errors } from '@elastic/elasticsearch';
import { createElasticsearchClient } from '../../elasticsearch/elasticsearch-client';
import { describeNodes, elasticsearchNodes } from '../../elasticsearch/nodes';
import { type LogSource, LogStreams } from '../../config/data-streams';
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
/** How a line names its dataset; the logger writes it before any field of the line's own. */
const DATASET_KEY = Buffer.from('"data_stream.dataset":"');

/**
 * Elasticsearch as a {@link ShippingTarget}: one `_bulk` request of `create` entries per batch,
 * each into its source's data stream (LogStreams), with the entry's id as `_id` (so that a
 * resend answers 409). A process may deliver lines another left in the spool: each line goes
 * where its `data_stream.dataset` says, and one without (spooled before lines had one) where
 * it would have gone then, the family's own stream, so that a resend of it still answers 409.
 */
export class ElasticsearchTarget implements ShippingTarget {
  private readonly client: Client;
  readonly name = 'Elasticsearch';
  readonly description: string;
  private readonly streams: LogStreams;
  /** This process's own stream. */
  private readonly own: string;

  /**
   * @param url ELASTICSEARCH_URL: one node, or several of one cluster ({@link elasticsearchNodes}).
   * @param dataStream LOG_DATA_STREAM, which names the streams
   * @param source whose lines this process writes
   */
  constructor(url: string, dataStream: string, source: LogSource, requestTimeoutMs = 30_000) {
    // The shipper retries by itself, in order, from the spool: the client must not.
    this.client = createElasticsearchClient(url, { requestTimeoutMs, retries: 'none' });
    this.streams = new LogStreams(dataStream);
    this.own = this.streams.stream(source);
    this.description = `${this.streams.described} at ${describeNodes(elasticsearchNodes(url))}`;
  }

  async send(entries: readonly LogEntry[]): Promise<EntryResult[]> {
    let response: BulkResponse;
    try {
      response = await this.client.transport.request<BulkResponse>({
        method: 'POST',
        path: '/_bulk',
        querystring: {
          // Each item's status and error, not its index, version, shards and sequence numbers.
          filter_path: 'items.*.status,items.*.error',
          // Never a plain index, with mappings of its own, where no template makes the stream.
          require_data_stream: true,
        },
        bulkBody: bulkBody(entries, (document) => this.streamOf(document)),
      });
    } catch (error) {
      throw asTargetRequestError(error);
    }
    return (response.items ?? []).map((item) => {
      const result = Object.values(item)[0];
      if (!result) return { status: 500 };
      // No template makes the stream (yet): the line waits for one, as it would for the node.
      if (result.status === 404 && result.error?.type === 'index_not_found_exception') {
        return { status: 503, error: result.error };
      }
      return { status: result.status, error: result.error };
    });
  }

  /**
   * Lines wait for this process's data stream, or Threadline's index template that makes it, to
   * exist: the template named after LOG_DATA_STREAM, with this stream among its patterns. Not
   * any template that matches (Elastic's built-in `logs`, `logs-*-*`, matches every logs
   * stream), nor an older Threadline template (for the family's stream alone).
   */
  async missing(): Promise<string | undefined> {
    try {
      if (await this.client.indices.exists({ index: this.own })) return undefined;
      const found = await this.client.indices.getIndexTemplate(
        { name: this.streams.family },
        { ignore: [404] },
      );
      const patterns = found.index_templates?.[0]?.index_template.index_patterns ?? [];
      if ((Array.isArray(patterns) ? patterns : [patterns]).includes(this.own)) return undefined;
    } catch (error) {
      throw asTargetRequestError(error);
    }
    return `no index template or data stream for ${this.description}: run npm run es:setup (or start the API with ES_SETUP_ON_START=true)`;
  }

  close(): Promise<void> {
    return this.client.close();
  }

  /** The stream a line goes to: its dataset's, when it names one of ours; else the family's. */
  private streamOf(document: Buffer): string {
    const at = document.indexOf(DATASET_KEY);
    if (at < 0) return this.streams.family;
    const start = at + DATASET_KEY.length;
    const end = document.indexOf(0x22, start);
    const source =
      end < 0 ? undefined : this.streams.sourceOf(document.toString('latin1', start, end));
    return source === undefined ? this.streams.family : this.streams.stream(source);
  }
}

/**
 * The `_bulk` body of entries: a `create` action with the entry's id (and the index that
 * `indexOf` gives its document, if given), then the document.
 */
export function bulkBody(
  entries: readonly LogEntry[],
  indexOf?: (document: Buffer) => string,
): Buffer {
  const parts: Buffer[] = [];
  for (const { id, document } of entries) {
    const index = indexOf ? `"_index":${JSON.stringify(indexOf(document))},` : '';
    parts.push(
      Buffer.from(`{"create":{${index}"_id":${JSON.stringify(id)}}}\n`),
      document,
      NEWLINE,
    );
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
