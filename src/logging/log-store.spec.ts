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
  let present: string[] = [];
  const repository = {
    putIndexTemplate: put,
    componentTemplatesPresent: (names: readonly string[]) =>
      Promise.resolve(names.filter((name) => present.includes(name))),
  } as unknown as ElasticsearchRepository;
  const log = { info: jest.fn(), warn: jest.fn() } as unknown as AppLogger;
  const store = (env: NodeJS.ProcessEnv = {}): LogStore =>
    new LogStore(repository, loadConfig(env), log);

  afterEach(() => {
    put.mockClear();
    present = [];
  });

  it('names the data stream and its retention after the configuration', () => {
    const body = store({
      LOG_DATA_STREAM: 'logs-threadline-staging',
      LOG_RETENTION: '36h',
    }).template() as unknown as TemplateBody;
    // Each source's stream (logs-threadline.api-staging, …) and the family's own.
    expect(body.index_patterns).toEqual([
      'logs-threadline.api-staging',
      'logs-threadline.worker-staging',
      'logs-threadline.nginx-staging',
      'logs-threadline-staging',
    ]);
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
    expect(settings.index).toMatchObject({ auto_expand_replicas: '0-1' });
    expect(settings.index).not.toHaveProperty('number_of_replicas');
  });

  // logs@settings names an ILM policy; LOG_RETENTION is the data stream lifecycle's.
  it('lets the data stream lifecycle, not an ILM policy, keep the retention', () => {
    const { settings } = (store().template() as unknown as TemplateBody).template;
    expect(settings.index.lifecycle).toEqual({ prefer_ilm: false });
  });

  it('installs the template under the data stream name', async () => {
    const logStore = store({ LOG_DATA_STREAM: 'logs-threadline-staging' });
    await logStore.install();
    expect(put).toHaveBeenCalledTimes(1);
    expect(put).toHaveBeenCalledWith('logs-threadline-staging', logStore.template());
    expect(put.mock.calls[0]?.[1]).toMatchObject({ composed_of: [] });
  });

  it("composes Elastic's logs@settings and ecs@mappings where the cluster has them, before its own", async () => {
    present = ['ecs@mappings'];
    await store().install();
    expect(put.mock.calls[0]?.[1]).toMatchObject({ composed_of: ['ecs@mappings'] });
    put.mockClear();
    present = ['ecs@mappings', 'logs@settings'];
    await store().install();
    expect(put.mock.calls[0]?.[1]).toMatchObject({
      composed_of: ['logs@settings', 'ecs@mappings'],
    });
  });
});
