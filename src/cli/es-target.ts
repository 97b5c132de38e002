import { DATA_STREAM_PATTERN } from '../config/data-streams';
import { isServiceUrl } from '../config/is-service-url.validator';
import { elasticsearchNodes } from '../elasticsearch/nodes';
import type { LogSearchOptions } from '../traces/log-search-connection';
import { UsageError } from './usage-error';

/** The options of the commands that read Elasticsearch themselves (trace, flows). */
export interface EsValues {
  'es-url'?: string;
  'data-stream'?: string;
  insecure?: boolean;
}

/** Where a command searches the log lines, and with which credentials. */
export interface EsTarget {
  url: string;
  dataStream: string;
  options: LogSearchOptions;
}

/**
 * The Elasticsearch a command searches: --es-url (or ELASTICSEARCH_URL), --data-stream (or
 * LOG_DATA_STREAM), --insecure, and the credentials of the environment.
 * @throws UsageError naming the option (or variable) it cannot take
 */
export function esTarget(values: EsValues, env: NodeJS.ProcessEnv = process.env): EsTarget {
  const url = values['es-url'] ?? env.ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200';
  const nodes = elasticsearchNodes(url);
  if (nodes.length === 0 || !nodes.every((node) => isServiceUrl(node, ['http:', 'https:']))) {
    throw new UsageError(
      '--es-url (or ELASTICSEARCH_URL) must be an http:// or https:// URL, or several separated by commas, e.g. http://127.0.0.1:9200',
    );
  }
  const dataStream = values['data-stream'] ?? env.LOG_DATA_STREAM ?? 'logs-threadline-default';
  if (!DATA_STREAM_PATTERN.test(dataStream)) {
    throw new UsageError(
      `--data-stream (or LOG_DATA_STREAM) must be a data stream name like logs-threadline-default, not "${dataStream}"`,
    );
  }
  return {
    url,
    dataStream,
    options: {
      apiKey: env.ELASTICSEARCH_API_KEY,
      username: env.ELASTICSEARCH_USERNAME,
      password: env.ELASTICSEARCH_PASSWORD,
      insecure: values.insecure,
    },
  };
}
