// The point of shipping: one term query on correlation_id finds a flow's lines from nginx
// (shipped by rsyslog), the API and the worker (shipped by the app), within seconds.
import { Client } from '@elastic/elasticsearch';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { type LogDoc, allDocs } from '../support/log-search';
import type { Nginx } from '../support/nginx';
import { LogStreams } from '../../src/config/data-streams';
import { ECS_SCHEMA_VERSION, ecsProblems } from '../support/ecs';
import { type ShippedStack, startShippedStack } from '../support/shipped-stack';
import { ELASTICSEARCH_URL, eventually } from '../support/services';
import { TEST_DATA_STREAM, TestStack, type Task } from '../support/stack';

/** The acceptance bound: a flow is searchable this soon after it ends. */
const SEARCHABLE_WITHIN_MS = 5_000;

describe('a flow in Elasticsearch', () => {
  const stack = new TestStack({ LOG_LEVEL: 'info' });
  const client = new Client({ node: ELASTICSEARCH_URL });
  let shipped: ShippedStack | undefined;
  let nginx: Nginx;
  /** The flow the first test follows. */
  let flow = '';

  beforeAll(async () => {
    shipped = await startShippedStack(stack);
    nginx = shipped.nginx;
  });
  afterAll(async () => {
    await (shipped?.stop() ?? stack.stop());
    await client.close();
  });

  it(`finds nginx, API and worker lines by one correlation_id within ${SEARCHABLE_WITHIN_MS / 1000} s`, async () => {
    flow = `search-${randomUUID()}`;
    const submitted = await fetch(`${nginx.url}/api/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Correlation-ID': flow },
      body: JSON.stringify({ type: 'echo', data: { message: 'find me' } }),
    });
    expect(submitted.status).toBe(202);
    const task = (await submitted.json()) as Task;
    await eventually(async () => {
      const polled = (await (
        await fetch(`${nginx.url}/api/v1/tasks/${task.task_id}`)
      ).json()) as Task;
      return polled.status === 'completed' ? polled : undefined;
    }, 'the task to complete');

    const done = performance.now();
    const byService = async (): Promise<Map<unknown, LogDoc[]> | undefined> => {
      const docs = await allDocs(client, TEST_DATA_STREAM, { term: { correlation_id: flow } });
      const grouped = new Map<unknown, LogDoc[]>();
      for (const doc of docs)
        grouped.set(doc['service.name'], [...(grouped.get(doc['service.name']) ?? []), doc]);
      const actions = docs.map((doc) => doc['event.action']);
      const complete =
        grouped.size === 3 &&
        actions.includes('task-completed') &&
        (grouped.get('nginx')?.length ?? 0) >= 2;
      return complete ? grouped : undefined;
    };
    const found = await eventually(
      byService,
      'the flow in Elasticsearch',
      SEARCHABLE_WITHIN_MS * 3,
    );
    const elapsed = performance.now() - done;

    expect([...found.keys()].sort()).toEqual(['nginx', 'threadline-api', 'threadline-worker']);
    // The nginx lines of the submit and the poll; the API's request and queued lines; the run.
    expect(found.get('nginx')?.map((doc) => doc['event.dataset'])).toContain('threadline.nginx');
    expect(found.get('threadline-api')?.map((doc) => doc['event.action'])).toContain('task-queued');
    expect(found.get('threadline-worker')?.every((doc) => doc.task_id === task.task_id)).toBe(true);
    expect(elapsed).toBeLessThan(SEARCHABLE_WITHIN_MS);
  });

  it(`ships each source into a data stream of its own, every line fitting ECS ${ECS_SCHEMA_VERSION}`, async () => {
    expect(flow).not.toBe('');
    const streams = new LogStreams(TEST_DATA_STREAM);
    const result = await client.search<LogDoc>({
      index: streams.searched,
      ignore_unavailable: true,
      size: 1000,
      query: { term: { correlation_id: flow } },
    });
    const hits = result.hits.hits;
    const sources = ['nginx', 'api', 'worker'] as const;
    for (const source of sources) {
      const docs = hits.filter(
        (hit) => hit._source?.['data_stream.dataset'] === streams.dataset(source),
      );
      expect([source, docs.length > 0]).toEqual([source, true]);
      for (const hit of docs) {
        // A data stream's backing index: .ds-<stream>-<date>-<generation>.
        expect(hit._index).toMatch(
          new RegExp(`^\\.ds-${streams.stream(source).replaceAll('.', '\\.')}-`),
        );
        expect(ecsProblems(hit._source ?? {})).toEqual([]);
        expect(hit._source).toMatchObject({
          'event.dataset': streams.dataset(source),
          'data_stream.type': 'logs',
          'data_stream.namespace': streams.namespace,
        });
      }
    }
    expect(hits.length).toBe(
      hits.filter((hit) =>
        sources.some((s) => hit._source?.['data_stream.dataset'] === streams.dataset(s)),
      ).length,
    );
  });
});
