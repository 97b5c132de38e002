// The log data stream's layout is code: `npm run es:setup` and the API's start-up install the
// index template, and real log lines land in it with the IDs mapped as keywords.
import { Client } from '@elastic/elasticsearch';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ELASTICSEARCH_URL, eventually, repoRoot } from '../support/services';
import { LogStreams } from '../../src/config/data-streams';
import { TestStack } from '../support/stack';

const client = new Client({ node: ELASTICSEARCH_URL });

function esSetup(env: Record<string, string>): {
  status: number | null;
  stdout: string;
  stderr: string;
} {
  const result = spawnSync(process.execPath, [join(repoRoot, 'dist', 'es-setup.js')], {
    env: { PATH: process.env.PATH ?? '', ELASTICSEARCH_URL, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Template {
  index_patterns: string[];
  data_stream?: unknown;
  template: { lifecycle?: { data_retention?: string } };
}

async function templateOf(name: string): Promise<Template | undefined> {
  const found = await client.indices.getIndexTemplate({ name }, { ignore: [404] });
  return (found.index_templates?.[0]?.index_template as Template | undefined) ?? undefined;
}

describe('log data stream layout', () => {
  const streams: string[] = [];
  const stream = (): string => {
    const name = `logs-threadline-t${randomUUID().slice(0, 8)}`;
    streams.push(name);
    return name;
  };

  afterAll(async () => {
    await Promise.all(
      // A template still used by a data stream cannot be removed (400), and the embedded node
      // cannot delete data streams (docs/elasticsearch-node.md): that one test stream stays.
      streams.map((name) => client.indices.deleteIndexTemplate({ name }, { ignore: [400, 404] })),
    );
    await client.close();
  });

  it('npm run es:setup installs the template, and running it again is harmless', async () => {
    const name = stream();
    for (let run = 0; run < 2; run++) {
      const result = esSetup({ LOG_DATA_STREAM: name, LOG_RETENTION: '3d' });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toContain(`Index template for ${name} installed`);
    }
    const template = await templateOf(name);
    // Each source's stream (logs-threadline.api-<ns>, …) and the family's own.
    const streams = new LogStreams(name);
    expect(template).toMatchObject({
      index_patterns: streams.patterns,
      data_stream: {},
      template: { lifecycle: { data_retention: '3d' } },
    });
  });

  it("maps the IDs of real log lines as keywords, message as text, @timestamp as date, in the API's stream", async () => {
    const name = stream();
    const apiStream = new LogStreams(name).stream('api');
    expect(esSetup({ LOG_DATA_STREAM: name }).status).toBe(0);
    const stack = new TestStack({ LOG_LEVEL: 'info', ES_SETUP_ON_START: 'false' });
    await stack.startApi();
    try {
      await stack.request('GET', '/api/v1/queues', undefined, {
        'X-Request-ID': 'layout-check-1',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      });
      const line = await eventually(
        () =>
          Promise.resolve(
            stack
              .logLines()
              .find(
                (l) => l.request_id === 'layout-check-1' && l['event.action'] === 'http-request',
              ),
          ),
        'the access line',
      );
      await client.index({ index: apiStream, op_type: 'create', document: line, refresh: true });
    } finally {
      await stack.stop();
    }
    const found = await client.search({
      index: apiStream,
      query: { term: { correlation_id: 'layout-check-1' } },
    });
    expect(found.hits.hits).toHaveLength(1);
    const mapping =
      Object.values(await client.indices.getMapping({ index: apiStream }))[0].mappings.properties ??
      {};
    const type = (path: string): unknown =>
      path
        .split('.')
        .reduce<unknown>(
          (node, key) =>
            (node as { properties?: Record<string, unknown> } | undefined)?.properties?.[key] ??
            (node as Record<string, unknown> | undefined)?.[key],
          { properties: mapping },
        );
    expect(type('request_id')).toMatchObject({ type: 'keyword' });
    expect(type('correlation_id')).toMatchObject({ type: 'keyword' });
    expect(type('task_id')).toMatchObject({ type: 'keyword' });
    expect(type('trace.id')).toMatchObject({ type: 'keyword' });
    expect(type('span.id')).toMatchObject({ type: 'keyword' });
    expect(type('service.name')).toMatchObject({ type: 'keyword' });
    expect(type('event.dataset')).toMatchObject({ type: 'keyword' });
    expect(type('message')).toMatchObject({ type: 'text' });
    expect(type('@timestamp')).toMatchObject({ type: 'date' });
    expect(type('http.response.status_code')).toMatchObject({ type: 'integer' });
    expect(type('data_stream.dataset')).toMatchObject({ type: 'keyword' });
    expect(type('request.headers')).toMatchObject({ type: 'flattened' });
  });

  it('the API installs it at start-up unless ES_SETUP_ON_START=false', async () => {
    const installed = stream();
    const skipped = stream();
    const on = new TestStack({ LOG_DATA_STREAM: installed });
    const off = new TestStack({ LOG_DATA_STREAM: skipped, ES_SETUP_ON_START: 'false' });
    await Promise.all([on.startApi(), off.startApi()]);
    try {
      await eventually(
        async () => ((await templateOf(installed)) ? true : undefined),
        'the template to be installed',
      );
      expect(await templateOf(skipped)).toBeUndefined();
    } finally {
      await Promise.all([on.stop(), off.stop()]);
    }
  });

  it('es:setup names the URL and the fix when Elasticsearch does not answer', () => {
    const result = esSetup({ ELASTICSEARCH_URL: 'http://127.0.0.1:9' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Could not install the index template at http://127.0.0.1:9');
    expect(result.stderr).toContain('npm run services -- up elasticsearch');
  });
});
