// Access control and abuse, after the OWASP API Security Top 10: with API keys on, no key
// means 401 (API2); a key sees only its own tasks and traces, 404 for anyone else's (API1);
// each key has a rate limit, 429 with Retry-After beyond it, and bodies over BODY_LIMIT get
// 413 (API4); responses carry no internal fields or stack traces (API3, API8); and the keys
// themselves never reach the logs or Elasticsearch.
import { Client } from '@elastic/elasticsearch';
import { randomUUID } from 'node:crypto';
import { allDocs } from '../support/log-search';
import { ELASTICSEARCH_URL, eventually } from '../support/services';
import { TEST_DATA_STREAM, TestStack, type Task } from '../support/stack';
import { recordScenario } from './chaos';

const ALICE = `alice-${randomUUID().replaceAll('-', '')}`;
const BOB = `bob-${randomUUID().replaceAll('-', '')}`;
const CAROL = `carol-${randomUUID().replaceAll('-', '')}`;
const LIMIT = 40;
const TASK_VIEW_FIELDS = [
  'task_id',
  'type',
  'queue',
  'priority',
  'status',
  'progress',
  'attempts',
  'max_attempts',
  'result',
  'error',
  'created_at',
  'started_at',
  'finished_at',
  'parent_id',
  'correlation_id',
  'links',
];

interface Problem {
  status: number;
  title: string;
  detail: string;
}

describe('chaos: access control and abuse', () => {
  const stack = new TestStack({
    API_KEYS: `alice:${ALICE},bob:${BOB},carol:${CAROL}`,
    RATE_LIMIT_PER_MINUTE: String(LIMIT),
    BODY_LIMIT: '2kb',
    LOG_LEVEL: 'info',
  });
  const as = (key: string) => ({ authorization: `Bearer ${key}` });
  const since = new Date();
  let requests = 0;
  const request = <T>(method: string, path: string, body?: unknown, headers = {}) => {
    requests += 1;
    return stack.request<T>(method, path, body, headers);
  };

  beforeAll(async () => {
    await stack.startApi({ LOG_LEVEL: 'info' });
    await stack.startWorker();
  });
  afterAll(() => stack.stop());

  it('answers 401 with WWW-Authenticate without a valid key, and serves health probes to all', async () => {
    for (const [method, path] of [
      ['POST', '/api/v1/tasks'],
      ['GET', `/api/v1/tasks/${randomUUID()}`],
      ['DELETE', `/api/v1/tasks/${randomUUID()}`],
      ['GET', '/api/v1/traces/anything'],
      ['GET', '/api/v1/queues'],
    ]) {
      for (const headers of [{}, as('not-a-key-0123456789012345'), { 'x-api-key': 'wrong' }]) {
        const reply = await request<Problem>(
          method,
          path,
          method === 'POST' ? {} : undefined,
          headers,
        );
        expect({ path, status: reply.status }).toEqual({ path, status: 401 });
        expect(reply.headers.get('www-authenticate')).toBe('Bearer realm="threadline"');
        expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(reply.body.detail).toMatch(/API key/);
      }
    }
    expect((await request('GET', '/health')).status).toBe(200);
    expect((await request('GET', '/api/v1/queues', undefined, { 'x-api-key': ALICE })).status).toBe(
      200,
    );
    // The dashboard would show every key's tasks: it is not served with keys on.
    expect((await request('GET', '/admin/queues')).status).toBe(404);
  });

  it("shows a key its own tasks and traces, and answers 404 for another key's", async () => {
    const submitted = await request<Task>(
      'POST',
      '/api/v1/tasks',
      { type: 'echo', data: { message: 'alice only' } },
      as(ALICE),
    );
    expect(submitted.status).toBe(202);
    const id = submitted.body.task_id;
    const done = await eventually(async () => {
      const reply = await request<Task>('GET', `/api/v1/tasks/${id}`, undefined, as(ALICE));
      return reply.body.status === 'completed' ? reply : undefined;
    }, 'the task to complete');
    expect(Object.keys(done.body).every((field) => TASK_VIEW_FIELDS.includes(field))).toBe(true);

    for (const [method, path] of [
      ['GET', `/api/v1/tasks/${id}`],
      ['DELETE', `/api/v1/tasks/${id}`],
      ['GET', `/api/v1/traces/${id}`],
      ['GET', `/api/v1/traces/${submitted.body.correlation_id ?? id}`],
    ]) {
      const reply = await request<Problem>(method, path, undefined, as(BOB));
      expect({ path, status: reply.status }).toEqual({ path, status: 404 });
    }
    const trace = await eventually(async () => {
      const reply = await request<{ lines: Record<string, unknown>[] }>(
        'GET',
        `/api/v1/traces/${id}`,
        undefined,
        as(ALICE),
      );
      return reply.status === 200 &&
        reply.body.lines.some((line) => line['event.action'] === 'task-completed')
        ? reply.body
        : undefined;
    }, "Alice's trace to show her task's run");
    expect(trace.lines.every((line) => line['user.name'] === 'alice')).toBe(true);
  });

  it("keeps each key's Idempotency-Keys apart", async () => {
    const key = `shared-${randomUUID()}`;
    const body = { type: 'echo', data: { message: 'same key, two holders' } };
    const a = await request<Task>('POST', '/api/v1/tasks', body, {
      ...as(ALICE),
      'Idempotency-Key': key,
    });
    const b = await request<Task>('POST', '/api/v1/tasks', body, {
      ...as(BOB),
      'Idempotency-Key': key,
    });
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(b.body.task_id).not.toBe(a.body.task_id);
  });

  it('limits each key: 429 with Retry-After past RATE_LIMIT_PER_MINUTE, others unaffected', async () => {
    // Three times the limit: however a minute boundary splits them, one window goes over.
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 3 * LIMIT; i++) {
      const reply = await request<Problem>(
        'GET',
        `/api/v1/tasks/${randomUUID()}`,
        undefined,
        as(CAROL),
      );
      statuses.push(reply.status);
      if (reply.status === 429) {
        retryAfter = reply.headers.get('retry-after');
        expect(reply.body.detail).toMatch(/RATE_LIMIT_PER_MINUTE/);
      }
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 404 || s === 429)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    const other = await request('GET', `/api/v1/tasks/${randomUUID()}`, undefined, as(BOB));
    expect(other.status).toBe(404);
  });

  it('answers 413 for a body over BODY_LIMIT, and never shows a stack trace', async () => {
    const big = await request<Problem>(
      'POST',
      '/api/v1/tasks',
      { type: 'echo', data: { message: 'x'.repeat(4096) } },
      as(BOB),
    );
    expect(big.status).toBe(413);
    expect(big.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    for (const reply of [
      big,
      await request('POST', '/api/v1/tasks', '{"type":', {
        ...as(BOB),
        'content-type': 'application/json',
      }),
      await request('GET', '/api/v1/tasks/not-a-uuid', undefined, as(BOB)),
      await request('POST', '/api/v1/tasks', { type: 'nope', data: {} }, as(BOB)),
    ]) {
      expect(reply.status).toBeGreaterThanOrEqual(400);
      expect(reply.status).toBeLessThan(500);
      expect(reply.text).not.toMatch(/\n\s+at |node_modules|\/dist\/|Error:/);
    }
  });

  it('never writes a key to stdout or Elasticsearch', async () => {
    const client = new Client({ node: ELASTICSEARCH_URL });
    const pids = [stack.api?.pid ?? -1];
    const docs = await eventually(async () => {
      const found = await allDocs(client, TEST_DATA_STREAM, {
        bool: {
          filter: [
            { terms: { 'process.pid': pids } },
            { range: { '@timestamp': { gte: since.toISOString() } } },
          ],
        },
      });
      return found.length >= requests ? found : undefined;
    }, "the API's lines to be searchable");
    await client.close();
    const everything = `${JSON.stringify(docs)}\n${stack.allOutput()}`;
    for (const key of [ALICE, BOB, CAROL]) expect(everything.includes(key)).toBe(false);
    expect(docs.some((doc) => doc['user.name'] === 'alice')).toBe(true);
    recordScenario({
      scenario: 'access control',
      load: `${requests} requests with 3 API keys`,
      faults:
        'no key, wrong keys, foreign ids, shared Idempotency-Key, 3× the rate limit, 4 KiB body',
    });
  });
});
