import { Client } from '@elastic/elasticsearch';
import { elasticsearchNodes } from './nodes';

/** What differs between Threadline's Elasticsearch clients. */
export interface ElasticsearchClientOptions {
  /** Longest one request may take, in ms. */
  requestTimeoutMs: number;
  /**
   * `'other-nodes'` (the default): a request a node refuses goes to the next node of the
   * list, since one node down is no outage of a cluster. `'none'`: the caller retries by
   * itself (the log shipper does, in order, from its spool); the pool still marks a node that
   * fails as dead, so the caller's next attempt goes to another.
   */
  retries?: 'other-nodes' | 'none';
  /** An API key, or a user and password; none by default. */
  auth?: { apiKey: string } | { username: string; password: string };
  /** Do not verify the node's TLS certificate (the CLI's `--insecure`). Default: `false`. */
  insecure?: boolean;
}

/**
 * The one way Threadline builds an Elasticsearch client: every node of `url`
 * (ELASTICSEARCH_URL, or the CLI's `--es-url`; {@link elasticsearchNodes}), sniffing off.
 * @see docs/elasticsearch-node.md
 */
export function createElasticsearchClient(
  url: string,
  options: ElasticsearchClientOptions,
): Client {
  const nodes = elasticsearchNodes(url);
  return new Client({
    node: nodes,
    auth: options.auth,
    requestTimeout: options.requestTimeoutMs,
    maxRetries: options.retries === 'none' ? 0 : nodes.length - 1,
    tls: options.insecure ? { rejectUnauthorized: false } : undefined,
  });
}
