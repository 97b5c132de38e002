import { loadConfig } from '../config/load-config';
import type { ElasticsearchRepository } from '../elasticsearch/elasticsearch.repository';
import type { AppLogger } from './logger';
import { LogStore } from './log-store';

interface TemplateBody {
  index_patterns: string[];
  data_stream: unknown;
  _comment?: unknown;
  template: {
    settings: { index: Record<string, unknown> };
    lifecycle: { data_retention: string };
    mappings: { properties: Record<string, { type?: string }> };
  };
}

describe(LogStore.name, () => {
  const put = jest.fn<Promise<void>, [string, Record<string, unknown>]>(() => Promise.resolve());
  const repository = { putIndexTemplate: put } as unknown as ElasticsearchRepository;
  const log = { info: jest.fn(), warn: jest.fn() } as unknown as AppLogger;
  const store = (env: NodeJS.ProcessEnv = {}): LogStore =>
    new LogStore(repository, loadConfig(env), log);

  afterEach(() => put.mockClear());

  it('names the data stream and its retention after the configuration', () => {
    const body = store({
      LOG_DATA_STREAM: 'logs-threadline-staging',
      LOG_RETENTION: '36h',
    }).template() as unknown as TemplateBody;
    expect(body.index_patterns).toEqual(['logs-threadline-staging']);
    expect(body.data_stream).toEqual({});
    expect(body.template.lifecycle).toEqual({ data_retention: '36h' });
    expect(body._comment).toBeUndefined();
  });

  it('keeps the mappings of the committed template', () => {
    const { properties } = (store().template() as unknown as TemplateBody).template.mappings;
    expect(properties.request_id?.type).toBe('keyword');
    expect(properties['@timestamp']?.type).toBe('date');
  });

  // One replica where a second node can hold it, so that a node lost loses no line; none on a
  // single node, which would otherwise stay yellow for ever.
  it('gives the backing indices one replica when the cluster has a second node, else none', () => {
    const { settings } = (store().template() as unknown as TemplateBody).template;
    expect(settings.index).toEqual({ auto_expand_replicas: '0-1' });
    expect(settings.index).not.toHaveProperty('number_of_replicas');
  });

  it('installs the template under the data stream name', async () => {
    const logStore = store({ LOG_DATA_STREAM: 'logs-threadline-staging' });
    await logStore.install();
    expect(put).toHaveBeenCalledTimes(1);
    expect(put).toHaveBeenCalledWith('logs-threadline-staging', logStore.template());
  });
});
