import { type Client, errors } from '@elastic/elasticsearch';
import { LogStreams } from '../config/data-streams';
import { createElasticsearchClient } from '../elasticsearch/elasticsearch-client';
import { describeNodes, elasticsearchNodes } from '../elasticsearch/nodes';

/** Elasticsearch could not be asked: down, refused, timed out. */
export class TraceUnavailableError extends Error {
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`Elasticsearch at ${url} did not answer: ${reason}`);
  }
}

/** How the CLI reaches Elasticsearch (the API's processes need none of it). */
export interface LogSearchOptions {
  apiKey?: string;
  username?: string;
  password?: string;
  insecure?: boolean;
}

/**
 * What a search of the log lines needs: a client, the streams to search and, for messages, the
 * nodes' origins without credentials. Trace and flow searches share it.
 */
export class LogSearchConnection {
  constructor(
    readonly client: Client,
    /** Every source's stream of the LOG_DATA_STREAM, and its own (LogStreams.searched). */
    readonly index: string,
    readonly url: string,
  ) {}

  static open(
    url: string,
    dataStream: string,
    options: LogSearchOptions = {},
  ): LogSearchConnection {
    const auth = options.apiKey
      ? { apiKey: options.apiKey }
      : options.username
        ? { username: options.username, password: options.password ?? '' }
        : undefined;
    const client = createElasticsearchClient(url, {
      requestTimeoutMs: 30_000,
      auth,
      insecure: options.insecure,
    });
    return new LogSearchConnection(
      client,
      new LogStreams(dataStream).searched,
      describeNodes(elasticsearchNodes(url)),
    );
  }

  /** `request`'s answer; a TraceUnavailableError when Elasticsearch could not be reached. */
  async ask<T>(request: (client: Client) => Promise<T>): Promise<T> {
    try {
      return await request(this.client);
    } catch (error) {
      if (error instanceof errors.ConnectionError || error instanceof errors.TimeoutError) {
        throw new TraceUnavailableError(this.url, error.message);
      }
      throw error;
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
