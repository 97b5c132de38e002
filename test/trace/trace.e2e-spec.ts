// threadline trace and GET /api/v1/traces/:id on a real flow: a retried task and a batch with
// child tasks under one correlation_id, made through the real nginx, API and worker, and
// shipped by the app and by rsyslog into the real Elasticsearch node.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Trace } from '../../src/traces/trace';
import { lineKey } from '../support/log-search';
import {
  FAULTY_ENV,
  PORTFOLIO,
  type ShippedStack,
  startShippedStack,
  submitInFlow,
} from '../support/shipped-stack';
import { ELASTICSEARCH_URL, freePort, repoRoot } from '../support/services';
import { TEST_DATA_STREAM, TestStack, type Task } from '../support/stack';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

const CLI = join(repoRoot, 'dist', 'cli', 'threadline.js');
const cliEnv = {
  PATH: process.env.PATH ?? '',
  ELASTICSEARCH_URL,
  LOG_DATA_STREAM: TEST_DATA_STREAM,
};

function threadline(...args: string[]): Run {
  const run = spawnSync(process.execPath, [CLI, ...args], {
    env: cliEnv,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function traceJson(id: string): Trace {
  const run = threadline('trace', id, '--format', 'json');
  if (run.status !== 0) throw new Error(`trace ${id} exited ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout) as Trace;
}

describe('threadline trace', () => {
  const stack = new TestStack(FAULTY_ENV);
  let shipped: ShippedStack | undefined;
  const flow = `trace-${randomUUID()}`;
  let retried: Task;
  let batch: Task;
  let submitRequestId = '';

  const submit = (body: unknown): ReturnType<typeof submitInFlow> =>
    submitInFlow(shipped, flow, body);

  beforeAll(async () => {
    shipped = await startShippedStack(stack);
    const first = await submit({
      type: 'echo',
      data: { fail: { kind: 'retryable', attempts: 1 } },
    });
    retried = first.task;
    submitRequestId = first.requestId;
    batch = (await submit({ type: 'batch_var', data: { portfolios: [PORTFOLIO, PORTFOLIO] } }))
      .task;
    for (const task of [retried, batch]) await stack.until(task.task_id, ['completed']);
    await shipped.untilSearchable([flow]);
  });
  afterAll(async () => {
    await (shipped?.stop() ?? stack.stop());
  });

  it('prints the same flow from each kind of ID, with its relations', () => {
    const byCorrelation = traceJson(flow);
    const traceId = byCorrelation.lines.find((l) => l['service.name'] === 'threadline-worker')?.[
      'trace.id'
    ];
    expect(traceId).toEqual(expect.any(String));
    const starts = {
      correlation_id: flow,
      task_id: batch.task_id,
      request_id: submitRequestId,
      'trace.id': String(traceId),
    };
    for (const [field, id] of Object.entries(starts)) {
      const trace = traceJson(id);
      expect([field, trace.matched]).toEqual([field, expect.arrayContaining([field])]);
      expect([field, trace.lines.map(lineKey)]).toEqual([field, byCorrelation.lines.map(lineKey)]);
    }
    expect(new Set(byCorrelation.lines.map((l) => l['service.name']))).toEqual(
      new Set(['nginx', 'threadline-api', 'threadline-worker']),
    );
    const parent = byCorrelation.tasks.find((t) => t.task_id === batch.task_id);
    expect(parent?.children).toHaveLength(2);
    expect(byCorrelation.tasks.filter((t) => t.parent_id === batch.task_id)).toHaveLength(2);
    const echo = byCorrelation.tasks.find((t) => t.task_id === retried.task_id);
    expect(echo).toMatchObject({ retries: 1, status: 'completed' });
    expect(echo?.attempts.map((a) => a.outcome)).toEqual(['retried', 'completed']);
    const submitRequest = byCorrelation.requests.find((r) => r.request_id === submitRequestId);
    expect(submitRequest).toMatchObject({
      method: 'POST',
      path: '/api/v1/tasks',
      status: 202,
      tasks: [retried.task_id],
    });
    expect(submitRequest?.nginx_ms).toEqual(expect.any(Number));
    expect(submitRequest?.api_ms).toEqual(expect.any(Number));
    expect(byCorrelation.summary).toMatchObject({ retries: 1, status: 'completed' });
    // In time order.
    const times = byCorrelation.lines.map((l) => Date.parse(l['@timestamp']));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it("reports queue wait and run time that match the task's own timestamps", async () => {
    const trace = traceJson(batch.task_id);
    const task = await stack.task(batch.task_id);
    const attempt = trace.tasks.find((t) => t.task_id === batch.task_id)?.attempts.at(-1);
    const ran = Date.parse(task.finished_at ?? '') - Date.parse(task.started_at ?? '');
    const waited = Date.parse(task.started_at ?? '') - Date.parse(task.created_at);
    // The worker measures both around the same events the task's timestamps record.
    expect(Math.abs((attempt?.run_ms ?? -1e9) - ran)).toBeLessThanOrEqual(20);
    expect(Math.abs((attempt?.queue_wait_ms ?? -1e9) - waited)).toBeLessThanOrEqual(20);
  });

  it('prints a table for people: header, timeline, summary, and a Kibana link on request', () => {
    const run = threadline('trace', flow, '--kibana-url', 'http://kibana.example:5601');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Flow of ${flow} (found as correlation_id)`);
    expect(run.stdout).toMatch(/^IDs$/m);
    expect(run.stdout).toMatch(/^Timeline$/m);
    expect(run.stdout).toMatch(/^Summary$/m);
    expect(run.stdout).toContain(`task ${batch.task_id.slice(0, 8)} batch_var`);
    expect(run.stdout).toMatch(/retries: 1 · total: \d+ ms · status: completed/);
    expect(run.stdout).toContain(
      'Kibana: http://kibana.example:5601/app/discover#/view/threadline-flow-by-correlation-id',
    );
    // Not a terminal: no colour codes.
    expect(run.stdout).not.toContain('\u001b[');
    const ndjson = threadline('trace', flow, '--format', 'ndjson', '--limit', '3');
    expect(
      ndjson.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { correlation_id: string }).correlation_id),
    ).toEqual([flow, flow, flow]);
  });

  it('serves the same trace at GET /api/v1/traces/:id, linked from the task', async () => {
    const reply = await stack.request<Trace>('GET', `/api/v1/traces/${encodeURIComponent(flow)}`);
    expect(reply.status).toBe(200);
    expect(reply.body.lines.map(lineKey)).toEqual(
      traceJson(flow)
        .lines.filter((l) => Date.parse(l['@timestamp']) <= Date.parse(reply.body.summary.last_at))
        .map(lineKey),
    );
    const task = await stack.request<Task & { links: { trace: string } }>(
      'GET',
      `/api/v1/tasks/${batch.task_id}`,
    );
    expect(task.body.links.trace).toBe(`/api/v1/traces/${batch.task_id}`);
    const missing = await stack.request<{ detail: string }>(
      'GET',
      `/api/v1/traces/no-such-${randomUUID()}`,
    );
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('exits 1 for an unknown ID, 3 when Elasticsearch is down, 2 on bad flags', async () => {
    const unknown = threadline('trace', `no-such-${randomUUID()}`);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    const url = `http://127.0.0.1:${await freePort()}`;
    const down = threadline('trace', flow, '--es-url', url);
    expect(down.status).toBe(3);
    expect(down.stderr).toContain(url);
    expect(down.stderr).toContain('--es-url');
    for (const bad of [
      ['trace', flow, '--format', 'xml'],
      ['trace', flow, '--bogus'],
      ['trace'],
      ['frobnicate', 'x'],
    ]) {
      const run = threadline(...bad);
      expect([bad, run.status]).toEqual([bad, 2]);
      expect(run.stderr).toContain('Usage: threadline trace <id>');
    }
  });

  it('narrows by time, and reads a task from the API with threadline task', async () => {
    const future = threadline('trace', flow, '--since', '2999-01-01T00:00:00Z');
    expect(future.status).toBe(1);
    const window = traceJson(flow);
    const until = threadline(
      'trace',
      flow,
      '--format',
      'json',
      '--until',
      window.lines[2]?.['@timestamp'] ?? '',
    );
    expect((JSON.parse(until.stdout) as Trace).lines.length).toBeLessThan(window.lines.length);

    const api = ['--api-url', stack.baseUrl];
    const found = threadline('task', batch.task_id, ...api);
    expect(found.status).toBe(0);
    expect(JSON.parse(found.stdout)).toMatchObject({ task_id: batch.task_id, status: 'completed' });
    const missing = threadline('task', randomUUID(), ...api);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('No task');
    const away = threadline(
      'task',
      batch.task_id,
      '--api-url',
      `http://127.0.0.1:${await freePort()}`,
    );
    expect(away.status).toBe(3);
    expect(away.stderr).toContain('THREADLINE_API_URL');
  });

  it('follows a running task with --follow, and exits when it finishes', async () => {
    const slow = (await submit({ type: 'echo', data: { delay_ms: 2500 } })).task;
    await stack.until(slow.task_id, ['active']);
    const child = spawn(process.execPath, [CLI, 'trace', slow.task_id, '--follow'], {
      env: cliEnv,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(output).toMatch(/completed in \d+ ms/);
    expect(output.trim().split('\n').at(-1)).toBe('  flow completed');
  });
});
