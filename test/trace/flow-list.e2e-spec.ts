// The flow list over flows of known shape: lines written straight into a data stream of its own,
// at a time of their own (so that no other run's lines fall in the window), read through the
// real API with API keys on. Each filter returns exactly the flows that match, in order; pages
// join up with nothing twice, flows that end in the same millisecond included; a key never
// sees another key's flows; what Elasticsearch cannot answer is a 503.
import { Client } from '@elastic/elasticsearch';
import { randomUUID } from 'node:crypto';
import type { FlowList, FlowSummary } from '../../src/traces/flows/flow-search';
import { ELASTICSEARCH_URL, freePort } from '../support/services';
import { seedStream } from '../support/log-search';
import { TestStack } from '../support/stack';

const STREAM = 'logs-threadline-flowlist';
const ALICE = `alice-${randomUUID().replaceAll('-', '')}`;
const BOB = `bob-${randomUUID().replaceAll('-', '')}`;
/** A minute of its own in the past: base time of every line of this run. */
const T = Date.UTC(2022, 0, 1) + Math.floor(Math.random() * 1e11);
const run = `fl-${randomUUID().slice(0, 8)}`;
const WINDOW = `since=${new Date(T - 3_600_000).toISOString()}&until=${new Date(T + 600_000).toISOString()}`;

type Line = Record<string, unknown>;

/** A line of flow `name` at `T + ms`, Alice's unless it says otherwise. */
function line(name: string, ms: number, fields: Line = {}): Line {
  return {
    '@timestamp': new Date(T + ms).toISOString(),
    correlation_id: `${run}-${name}`,
    request_id: `${run}-${name}-r`,
    'service.name': 'threadline-api',
    'log.level': 'info',
    'user.name': 'alice',
    message: `${name} at +${ms} ms`,
    ...fields,
  };
}
const api = (name: string, ms: number, status = 202): Line =>
  line(name, ms, { 'event.action': 'http-request', 'http.response.status_code': status });
const nginx = (name: string, ms: number): Line => {
  const { 'user.name': _owner, ...rest } = line(name, ms, {
    'service.name': 'nginx',
    'event.action': 'http-request',
  });
  return rest;
};
const queued = (name: string, ms: number, type: string, queue: string, children?: number): Line =>
  line(name, ms, {
    'event.action': 'task-queued',
    task_id: `${run}-${name}-t`,
    'task.type': type,
    'task.queue': queue,
    ...(children ? { 'task.children': children } : {}),
  });
const worker = (name: string, ms: number, action: string, fields: Line = {}): Line =>
  line(name, ms, {
    'service.name': 'threadline-worker',
    'event.action': action,
    task_id: `${run}-${name}-t`,
    ...fields,
  });

/** The flows, by name: what each did, relative to T. */
const FLOWS: Record<string, Line[]> = {
  done: [
    nginx('done', -2),
    api('done', 0),
    queued('done', 5, 'calculate_var', 'high'),
    worker('done', 100, 'task-started'),
    worker('done', 1_100, 'task-completed'),
  ],
  failed: [
    api('failed', 10_000),
    queued('failed', 10_005, 'echo', 'medium'),
    worker('failed', 10_100, 'task-started'),
    worker('failed', 10_500, 'task-failed', { 'error.message': 'boom', 'error.type': 'Error' }),
  ],
  retried: [
    api('retried', 20_000),
    queued('retried', 20_005, 'echo', 'medium'),
    worker('retried', 20_100, 'task-started'),
    worker('retried', 20_500, 'task-retried', { 'error.message': 'flaky' }),
    worker('retried', 21_000, 'task-started'),
    worker('retried', 21_500, 'task-completed'),
  ],
  slow: [
    api('slow', 30_000),
    queued('slow', 30_005, 'echo', 'low'),
    worker('slow', 30_100, 'task-started'),
    worker('slow', 38_000, 'task-completed'),
  ],
  running: [
    api('running', 40_000),
    queued('running', 40_005, 'echo', 'medium'),
    worker('running', 40_100, 'task-started'),
  ],
  batch: [
    api('batch', 50_000),
    queued('batch', 50_005, 'batch_var', 'medium', 2),
    worker('batch', 50_500, 'task-completed'),
    worker('batch', 50_800, 'task-completed'),
    worker('batch', 51_005, 'task-completed'),
  ],
  partial: [
    api('partial', 55_000),
    queued('partial', 55_005, 'batch_var', 'medium', 2),
    worker('partial', 55_500, 'task-completed'),
  ],
  none: [nginx('none', 59_999), api('none', 60_000, 400)],
  // Outside the window.
  old: [api('old', -7_200_000), queued('old', -7_199_990, 'echo', 'medium')],
  // Bob's.
  bobs: [
    line('bobs', 70_000, { 'user.name': 'bob', 'event.action': 'http-request' }),
    line('bobs', 70_500, {
      'user.name': 'bob',
      'service.name': 'threadline-worker',
      'event.action': 'task-failed',
      'error.message': 'not yours',
    }),
  ],
  // Three flows that end in the same millisecond.
  'tie-a': [api('tie-a', 80_000)],
  'tie-b': [api('tie-b', 80_000)],
  'tie-c': [api('tie-c', 80_000)],
};

/** Alice's flows in the window, the last to end first (ties by correlation_id). */
const ALICES = [
  'tie-a',
  'tie-b',
  'tie-c',
  'none',
  'partial',
  'batch',
  'running',
  'slow',
  'retried',
  'failed',
  'done',
];

const names = (list: FlowSummary[]): string[] =>
  list.map((flow) => flow.correlation_id.slice(run.length + 1));

describe('GET /api/v1/flows over flows of known shape', () => {
  const client = new Client({ node: ELASTICSEARCH_URL });
  const stack = new TestStack({
    LOG_DATA_STREAM: STREAM,
    LOG_SHIPPING: 'false',
    API_KEYS: `alice:${ALICE},bob:${BOB}`,
  });
  const list = (query: string, key = ALICE) =>
    stack.request<FlowList>('GET', `/api/v1/flows?${WINDOW}&${query}`, undefined, {
      authorization: `Bearer ${key}`,
    });

  beforeAll(async () => {
    await seedStream(client, STREAM, Object.values(FLOWS).flat());
    await stack.startApi();
  });
  afterAll(async () => {
    await stack.stop();
    await client.close();
  });

  it('lists the flows of the window, the last to end first, and only the key’s own', async () => {
    const reply = await list('limit=100');
    expect(reply.status).toBe(200);
    expect(names(reply.body.flows)).toEqual(ALICES);
    expect([reply.body.next_cursor, reply.body.truncated]).toEqual([null, false]);
    expect(reply.body.search.requests).toBe(2);
  });

  it.each([
    ['status=failed', ['failed']],
    ['status=retried', ['retried']],
    ['status=running', ['partial', 'running']],
    ['status=completed', ['batch', 'slow', 'retried', 'done']],
    ['status=slow', ['slow']],
    ['status=slow&min_duration_ms=1500', ['slow', 'retried']],
    ['min_duration_ms=1000', ['batch', 'slow', 'retried', 'done']],
    ['task_type=echo', ['running', 'slow', 'retried', 'failed']],
    ['queue=high', ['done']],
    [
      'service=threadline-worker',
      ['partial', 'batch', 'running', 'slow', 'retried', 'failed', 'done'],
    ],
    ['status=failed&task_type=calculate_var', []],
  ])('with %s, exactly the flows that match', async (query, expected) => {
    const reply = await list(query);
    expect(reply.status).toBe(200);
    expect(names(reply.body.flows)).toEqual(expected);
  });

  it('sums each flow up from all its lines', async () => {
    const { flows } = (await list('limit=100')).body;
    const byName = new Map(flows.map((flow) => [flow.correlation_id.slice(run.length + 1), flow]));
    expect(byName.get('failed')).toMatchObject({
      status: 'failed',
      duration_ms: 500,
      services: ['threadline-api', 'threadline-worker'],
      task_types: ['echo'],
      queues: ['medium'],
      tasks: { total: 1, running: 0, completed: 0, failed: 1 },
      retries: 0,
      lines: 4,
      first_error: { message: 'boom', type: 'Error', task_id: `${run}-failed-t` },
      links: { trace: `/api/v1/traces/${run}-failed`, page: `/trace/${run}-failed` },
    });
    expect(byName.get('retried')).toMatchObject({
      status: 'completed',
      retries: 1,
      first_error: { message: 'flaky' },
    });
    expect(byName.get('batch')?.tasks).toEqual({ total: 3, running: 0, completed: 3, failed: 0 });
    expect(byName.get('partial')).toMatchObject({
      status: 'running',
      tasks: { total: 3, running: 2, completed: 1, failed: 0 },
    });
    expect(byName.get('running')).toMatchObject({
      status: 'running',
      tasks: { total: 1, running: 1, completed: 0, failed: 0 },
    });
    expect(byName.get('slow')).toMatchObject({ slow: true, duration_ms: 8_000 });
    expect(byName.get('done')).toMatchObject({
      slow: false,
      first_at: new Date(T).toISOString(),
      last_at: new Date(T + 1_100).toISOString(),
    });
    expect(byName.get('none')).toMatchObject({ status: 'none', first_error: null });
  });

  it('pages by cursor: every flow once, those ending in the same millisecond included', async () => {
    for (const limit of [1, 2, 3]) {
      const seen: string[] = [];
      let cursor: string | null = '';
      let pages = 0;
      while (cursor !== null) {
        const query: string = `limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
        const reply = await list(query);
        expect(reply.status).toBe(200);
        expect(reply.body.flows.length).toBeLessThanOrEqual(limit);
        seen.push(...names(reply.body.flows));
        cursor = reply.body.next_cursor;
        pages += 1;
        expect(pages).toBeLessThanOrEqual(ALICES.length + 1);
      }
      expect({ limit, seen }).toEqual({
        limit,
        seen: ALICES,
      });
    }
  });

  it("never shows a key another key's flows", async () => {
    expect(names((await list('limit=100', BOB)).body.flows)).toEqual(['bobs']);
    expect(names((await list('status=failed', ALICE)).body.flows)).toEqual(['failed']);
    const anonymous = await stack.request('GET', `/api/v1/flows?${WINDOW}`);
    expect(anonymous.status).toBe(401);
  });

  it('counts the flows over the window, when asked, for the histogram', async () => {
    const { histogram } = (await list('histogram=true')).body;
    expect(histogram?.length).toBeGreaterThan(0);
    expect(histogram?.reduce((sum, bar) => sum + bar.failed, 0)).toBe(1);
    for (const bar of histogram ?? [])
      expect(Date.parse(bar.until)).toBeGreaterThan(Date.parse(bar.at));
  });

  it('answers a parameter it cannot take with a 400 naming it', async () => {
    const reply = await list('status=broken');
    expect(reply.status).toBe(400);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(reply.body).toMatchObject({ title: 'Invalid status' });
  });

  it('answers 503 with Retry-After when Elasticsearch does not answer', async () => {
    const away = new TestStack({
      LOG_SHIPPING: 'false',
      ES_SETUP_ON_START: 'false',
      ELASTICSEARCH_URL: `http://127.0.0.1:${await freePort()}`,
    });
    try {
      await away.startApi();
      const reply = await away.request<{ detail: string }>('GET', '/api/v1/flows');
      expect(reply.status).toBe(503);
      expect(reply.headers.get('retry-after')).toBe('5');
      expect(reply.body.detail).toMatch(/did not answer.*Retry later/);
    } finally {
      await away.stop();
    }
  });
});
