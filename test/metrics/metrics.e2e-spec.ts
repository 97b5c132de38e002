// GET /metrics on the API and on a worker's METRICS_PORT, scraped by Prometheus's rules after a
// flow whose every count is known: 5 tasks (one retried, one failed, one whose worker died).
import { freePort, services } from '../support/services';
import { parseExposition, type Sample, valueOf } from '../support/prometheus';
import { TestStack } from '../support/stack';

const ADMIN = 'admin-metrics-key-0123456789';
const USER = 'user-metrics-key-01234567890';

describe('Prometheus metrics', () => {
  const stack = new TestStack({
    API_KEYS: `ops:${ADMIN}:admin,app:${USER}`,
    RATE_LIMIT_PER_MINUTE: '10000',
    TASK_FAULT_INJECTION: 'true',
    WORKER_LOCK_MS: '1500',
    WORKER_STALLED_INTERVAL_MS: '500',
    TASK_BACKOFF_MS: '100',
    TASK_ATTEMPTS: '3',
  });
  const asUser = { authorization: `Bearer ${USER}` };
  let workerMetrics = '';

  async function scrape(url: string, key = ADMIN): Promise<Sample[]> {
    const response = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(await response.text());
  }

  async function submit(data: unknown): Promise<string> {
    const reply = await stack.request<{ task_id: string }>(
      'POST',
      '/api/v1/tasks',
      { type: 'echo', data },
      asUser,
    );
    expect(reply.status).toBe(202);
    return reply.body.task_id;
  }

  async function until(id: string, statuses: string[]): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const reply = await stack.request<{ status: string }>(
        'GET',
        `/api/v1/tasks/${id}`,
        undefined,
        asUser,
      );
      if (statuses.includes(reply.body.status)) return;
      if (Date.now() > deadline) throw new Error(`task ${id} still ${reply.body.status}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  beforeAll(async () => {
    // At info, so that its access lines give the shipper's counters something to count.
    await stack.startApi({ LOG_LEVEL: 'info' });
    // A worker that dies mid-task: the one that takes over counts the task as stalled.
    const doomed = await stack.startWorker({ WORKER_CONCURRENCY: '1' });
    const survivor = await submit({ delay_ms: 4000, message: 'survivor' });
    await until(survivor, ['active']);
    doomed.kill('SIGKILL');
    await doomed.exited;

    const port = await freePort();
    workerMetrics = `http://127.0.0.1:${port}/metrics`;
    await stack.startWorker({ METRICS_PORT: String(port) });
    const others = [
      await submit({ message: 'one' }),
      await submit({ message: 'two' }),
      await submit({ message: 'again', fail: { kind: 'retryable', attempts: 1 } }),
      await submit({ message: 'never', fail: { kind: 'fatal' } }),
    ];
    for (const id of [survivor, ...others]) await until(id, ['completed', 'failed']);
  }, 120_000);
  afterAll(() => stack.stop());

  it("the API's /metrics counts the flow's submissions, requests, depths and shipped lines", async () => {
    const api = await scrape(`${stack.baseUrl}/metrics`);
    expect(
      valueOf(api, 'threadline_tasks_submitted_total', { type: 'echo', queue: 'medium' }),
    ).toBe(5);
    expect(
      valueOf(api, 'threadline_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/api/v1/tasks',
        status_code: '202',
      }),
    ).toBe(5);
    // Route templates, not paths: one series for every task's id.
    const polls = api.filter(
      (s) =>
        s.name === 'threadline_http_request_duration_seconds_count' &&
        s.labels.method === 'GET' &&
        s.labels.route.startsWith('/api/'),
    );
    expect(polls.map((s) => s.labels.route)).toEqual(['/api/v1/tasks/:id']);
    // Read from Redis at scrape time: this stack's queues alone hold these.
    const depth = (state: string): number | undefined =>
      valueOf(api, 'threadline_queue_depth', { queue: 'medium', state });
    expect([depth('completed'), depth('failed'), depth('waiting'), depth('active')]).toEqual([
      4, 1, 0, 0,
    ]);
    for (const shard of stack.shards.prefixes) {
      expect(valueOf(api, 'threadline_queue_shard_up', { shard })).toBe(1);
    }
    expect(valueOf(api, 'threadline_log_lines_accepted_total')).toBeGreaterThan(10);
    for (const name of [
      'threadline_log_lines_shipped_total',
      'threadline_log_lines_dropped_total',
      'threadline_log_lines_dead_lettered_total',
      'threadline_log_lines_replayed_total',
      'threadline_log_spool_bytes',
    ]) {
      expect([name, valueOf(api, name)]).toEqual([name, expect.any(Number)]);
    }
    expect(valueOf(api, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThan(0);
    expect(valueOf(api, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(valueOf(api, 'process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
  });

  it("a worker's METRICS_PORT counts every attempt by outcome, with queue-wait and run-time histograms", async () => {
    const worker = await scrape(workerMetrics);
    const labels = { type: 'echo', queue: 'medium' };
    // survivor (its second attempt), one, two, again twice, never: 6 attempts on this worker.
    expect(valueOf(worker, 'threadline_tasks_started_total', labels)).toBe(6);
    const ended = (outcome: string): number | undefined =>
      valueOf(worker, 'threadline_tasks_ended_total', { ...labels, outcome });
    expect([ended('completed'), ended('retried'), ended('failed')]).toEqual([4, 1, 1]);
    expect(valueOf(worker, 'threadline_tasks_stalled_total', { queue: 'medium' })).toBe(1);
    // First attempts only; the survivor's first ran on the worker that died.
    expect(valueOf(worker, 'threadline_task_queue_wait_seconds_count', labels)).toBe(4);
    expect(valueOf(worker, 'threadline_task_run_seconds_count', labels)).toBe(6);
    const survivorRun = valueOf(worker, 'threadline_task_run_seconds_bucket', {
      ...labels,
      outcome: 'completed',
      le: '2.5',
    });
    // Three quick ones end under 2.5 s; the survivor's 4 s run does not.
    expect(survivorRun).toBe(3);
    expect(valueOf(worker, 'threadline_log_lines_accepted_total')).toBeGreaterThan(0);
    expect(valueOf(worker, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThan(0);
    // The API's own metrics are not the worker's.
    expect(valueOf(worker, 'threadline_tasks_submitted_total')).toBeUndefined();
  });

  it('asks for an admin key when API keys are on, naming the fix', async () => {
    for (const url of [`${stack.baseUrl}/metrics`, workerMetrics]) {
      const none = await fetch(url);
      expect(none.status).toBe(401);
      expect(none.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const user = await fetch(url, { headers: asUser });
      expect(user.status).toBe(403);
      expect(((await user.json()) as { detail: string }).detail).toMatch(/name:key:admin/);
    }
  });

  it('a worker whose METRICS_PORT is taken stops at start, naming the setting', async () => {
    const port = new URL(workerMetrics).port;
    const second = stack.launchWorker({ METRICS_PORT: port });
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(/cannot serve metrics on 127\.0\.0\.1:\d+ .*METRICS_PORT/);
  });
});

// The rate limits live in Redis; an outage of it must show in the metrics, not hide them.
describe('Prometheus metrics while Redis is down', () => {
  let url: string;
  let stack: TestStack;

  beforeAll(async () => {
    url = `redis://127.0.0.1:${await freePort()}`;
    services('up', 'redis', url);
    stack = new TestStack({ REDIS_URL: url, API_KEYS: `ops:${ADMIN}:admin,app:${USER}` });
    await stack.startApi();
  });
  afterAll(async () => {
    // Up again, so that the stack can delete its keys (a client to a Redis that is down would
    // retry for ever), then down for good.
    services('up', 'redis', url);
    await stack.stop();
    services('down', 'redis', url);
  });

  it('still answers an admin key, with the shards down, and still refuses any other key', async () => {
    services('down', 'redis', url);
    const scrape = (key: string): Promise<Response> =>
      fetch(`${stack.baseUrl}/metrics`, { headers: { authorization: `Bearer ${key}` } });
    const up = await scrape(ADMIN);
    expect(up.status).toBe(200);
    const samples = parseExposition(await up.text());
    for (const shard of stack.shards.prefixes) {
      expect(valueOf(samples, 'threadline_queue_shard_up', { shard })).toBe(0);
    }
    expect((await scrape(USER)).status).toBe(403);
    expect((await scrape('not-a-key-of-this-server-at-all')).status).toBe(401);
    // The rest of the API, which needs the limits, says it cannot serve.
    const tasks = await fetch(`${stack.baseUrl}/api/v1/queues`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(tasks.status).toBe(503);
  });
});
