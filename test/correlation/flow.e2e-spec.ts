// One ID finds the whole flow: nginx, API and worker lines, parsed from what the real
// processes write, carry request_id, correlation_id and task_id, through retries, crashes
// and child tasks, and never another flow's.
import { startNginx, type Nginx } from '../support/nginx';
import { eventually } from '../support/services';
import { TestStack, type Task } from '../support/stack';

type Line = Record<string, unknown>;

const WORKER_ENV = {
  TASK_FAULT_INJECTION: 'true',
  TASK_BACKOFF_MS: '200',
  WORKER_LOCK_MS: '1500',
  WORKER_STALLED_INTERVAL_MS: '500',
};

async function submitVia(
  base: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ task: Task; headers: Headers }> {
  const response = await fetch(`${base}/api/v1/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (response.status !== 202)
    throw new Error(`submit answered ${response.status}: ${await response.text()}`);
  return { task: (await response.json()) as Task, headers: response.headers };
}

async function pollVia(
  base: string,
  id: string,
  statuses = ['completed', 'failed'],
): Promise<Task> {
  return eventually(async () => {
    const task = (await (await fetch(`${base}/api/v1/tasks/${id}`)).json()) as Task;
    return statuses.includes(task.status) ? task : undefined;
  }, `task ${id} to finish`);
}

const service = (line: Line): unknown => line['service.name'];

/** Waits until a worker has written the task's `task-completed` line. */
function completedLine(stack: TestStack, taskId: string): Promise<Line> {
  return eventually(
    () =>
      Promise.resolve(
        stack
          .logLines()
          .find((l) => l['event.action'] === 'task-completed' && l.task_id === taskId),
      ),
    'the completed line',
  );
}

describe('correlation through nginx, API and worker', () => {
  const stack = new TestStack({ LOG_LEVEL: 'info', ...WORKER_ENV });
  let nginx: Nginx;

  beforeAll(async () => {
    await stack.startApi();
    // `low` is left to the workers of the crash test.
    await stack.startWorker({ WORKER_QUEUES: 'high,medium' });
    nginx = await startNginx([Number(new URL(stack.baseUrl).port)]);
  });
  afterAll(async () => {
    await nginx.stop();
    await stack.stop();
  });

  it('stamps every line of a flow with its correlation_id, from nginx to the worker and back in polls', async () => {
    const { task, headers } = await submitVia(
      nginx.url,
      { type: 'echo', data: { message: 'demo', delay_ms: 200 } },
      { 'X-Request-ID': 'trace-demo-123' },
    );
    expect(headers.get('x-request-id')).toBe('trace-demo-123');
    expect(headers.get('x-correlation-id')).toBe('trace-demo-123');
    const done = await pollVia(nginx.url, task.task_id);
    expect(done.correlation_id).toBe('trace-demo-123');

    await completedLine(stack, task.task_id);
    const flow = [...nginx.lines(), ...stack.logLines()].filter(
      (l) =>
        l.correlation_id === 'trace-demo-123' ||
        l.task_id === task.task_id ||
        l.request_id === 'trace-demo-123',
    );

    const nginxSubmit = nginx.lines().filter((l) => l.request_id === 'trace-demo-123');
    expect(nginxSubmit).toEqual([
      expect.objectContaining({
        correlation_id: 'trace-demo-123',
        task_id: task.task_id,
        'http.response.status_code': 202,
        request_id_replaced: false,
      }),
    ]);

    const api = flow.filter((l) => service(l) === 'threadline-api');
    const worker = flow.filter((l) => service(l) === 'threadline-worker');
    expect(api.map((l) => l['event.action'])).toEqual(
      expect.arrayContaining(['task-queued', 'http-request']),
    );
    expect(worker.map((l) => l['event.action'])).toEqual(
      expect.arrayContaining(['task-started', 'task-progress', 'task-completed']),
    );
    for (const line of flow) {
      expect({ message: line.message, correlation_id: line.correlation_id }).toEqual({
        message: line.message,
        correlation_id: 'trace-demo-123',
      });
    }
    for (const line of worker) {
      expect({ message: line.message, task_id: line.task_id, request_id: line.request_id }).toEqual(
        { message: line.message, task_id: task.task_id, request_id: 'trace-demo-123' },
      );
    }

    // Polls have their own request_id (nginx's) and join the task's flow.
    const polls = api.filter((l) => l['url.path'] === `/api/v1/tasks/${task.task_id}`);
    expect(polls.length).toBeGreaterThan(0);
    for (const poll of polls) {
      expect(poll).toMatchObject({
        correlation_id: 'trace-demo-123',
        task_id: task.task_id,
        request_id: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown,
      });
    }
    const nginxPolls = nginx
      .lines()
      .filter((l) => l['url.path'] === `/api/v1/tasks/${task.task_id}`);
    expect(
      nginxPolls.every((l) => l.correlation_id === 'trace-demo-123' && l.task_id === task.task_id),
    ).toBe(true);
  });

  it('continues an inbound traceparent: the worker lines carry its trace.id', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const { task } = await submitVia(
      nginx.url,
      { type: 'echo', data: {} },
      { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    );
    await pollVia(nginx.url, task.task_id);
    await completedLine(stack, task.task_id);
    // The submit and the runs; each poll is a request of its own, with a trace of its own.
    const lines = stack
      .logLines()
      .filter(
        (l) => l.task_id === task.task_id && l['url.path'] !== `/api/v1/tasks/${task.task_id}`,
      );
    const worker = lines.filter((l) => service(l) === 'threadline-worker');
    expect(worker.length).toBeGreaterThan(0);
    expect(new Set(lines.map((l) => l['trace.id']))).toEqual(new Set([traceId]));
    // A new span per hop: the worker's span is not the API's.
    const apiSpans = new Set(
      lines.filter((l) => service(l) === 'threadline-api').map((l) => l['span.id']),
    );
    expect(worker.every((l) => !apiSpans.has(l['span.id']))).toBe(true);
  });

  it('keeps the correlation_id across a retry, with attempt 1 then 2', async () => {
    const { task } = await submitVia(
      stack.baseUrl,
      { type: 'echo', data: { fail: { kind: 'retryable', attempts: 1 } } },
      { 'X-Correlation-ID': 'flow-retry-1' },
    );
    const done = await pollVia(stack.baseUrl, task.task_id);
    expect(done).toMatchObject({ status: 'completed', attempts: 2 });
    await completedLine(stack, task.task_id);
    const runs = stack
      .logLines()
      .filter((l) => l.task_id === task.task_id && service(l) === 'threadline-worker');
    expect(runs.map((l) => [l['event.action'], l['task.attempt']])).toEqual(
      expect.arrayContaining([
        ['task-started', 1],
        ['task-retried', 1],
        ['task-started', 2],
        ['task-completed', 2],
      ]),
    );
    expect(new Set(runs.map((l) => l.correlation_id))).toEqual(new Set(['flow-retry-1']));
  });

  it('keeps the correlation_id when a task re-runs after its worker was SIGKILLed', async () => {
    const doomed = await stack.startWorker({ WORKER_QUEUES: 'low', WORKER_CONCURRENCY: '1' });
    const { task } = await submitVia(
      stack.baseUrl,
      { type: 'echo', data: { delay_ms: 3000 }, queue: 'low' },
      { 'X-Correlation-ID': 'flow-crash-1' },
    );
    // Kill it once it has said it started (not merely once the task is marked active).
    await eventually(
      () =>
        Promise.resolve(
          doomed.output().includes('"event.action":"task-started"') ? true : undefined,
        ),
      'the doomed worker to start the task',
    );
    doomed.kill('SIGKILL');
    await doomed.exited;
    await stack.startWorker({ WORKER_QUEUES: 'low' });
    const done = await pollVia(stack.baseUrl, task.task_id);
    expect(done).toMatchObject({ status: 'completed', attempts: 2 });
    const lines = stack
      .logLines()
      .filter((l) => l.task_id === task.task_id && service(l) === 'threadline-worker');
    expect(lines.map((l) => [l['event.action'], l['task.attempt'] ?? null])).toEqual(
      expect.arrayContaining([
        ['task-started', 1],
        ['task-stalled', 1],
        ['task-started', 2],
        ['task-completed', 2],
      ]),
    );
    expect(new Set(lines.map((l) => l.correlation_id))).toEqual(new Set(['flow-crash-1']));
  });

  it('gives a batch_var parent and all its children one correlation_id, children naming the parent', async () => {
    const portfolio = {
      method: 'parametric',
      positions: [{ asset: 'A', value: 100 }],
      covariance: [[0.0001]],
    };
    const { task } = await submitVia(
      stack.baseUrl,
      { type: 'batch_var', data: { portfolios: [portfolio, portfolio, portfolio] } },
      { 'X-Correlation-ID': 'flow-batch-1' },
    );
    await pollVia(stack.baseUrl, task.task_id);
    const completed = stack
      .logLines()
      .filter((l) => l.correlation_id === 'flow-batch-1' && l['event.action'] === 'task-completed');
    const children = completed.filter((l) => l['task.type'] === 'calculate_var');
    expect(children).toHaveLength(3);
    expect(children.every((l) => l['task.parent_id'] === task.task_id)).toBe(true);
    expect(completed.filter((l) => l.task_id === task.task_id)).toHaveLength(1);
  });

  it('leaks no context between 50 parallel flows across two workers', async () => {
    await stack.startWorker({ WORKER_CONCURRENCY: '8' });
    const flows = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const id = `leak-${i}-${Math.random().toString(36).slice(2, 8)}`;
        const { task } = await submitVia(
          stack.baseUrl,
          { type: 'echo', data: { delay_ms: 20 * (i % 5) } },
          { 'X-Request-ID': id },
        );
        await pollVia(stack.baseUrl, task.task_id);
        return { id, taskId: task.task_id };
      }),
    );
    const byTask = new Map(flows.map((f) => [f.taskId, f.id]));
    const byId = new Map(flows.map((f) => [f.id, f.taskId]));
    await eventually(
      () =>
        Promise.resolve(
          flows.every((f) =>
            stack
              .logLines()
              .some((l) => l.task_id === f.taskId && l['event.action'] === 'task-completed'),
          )
            ? true
            : undefined,
        ),
      'every task-completed line',
    );
    const lines = stack.logLines();
    const workerPids = new Set(
      lines
        .filter((l) => service(l) === 'threadline-worker' && byTask.has(String(l.task_id)))
        .map((l) => l['process.pid']),
    );
    expect(workerPids.size).toBe(2);
    let checked = 0;
    for (const line of lines) {
      const task = typeof line.task_id === 'string' ? line.task_id : undefined;
      const flowOfTask = task ? byTask.get(task) : undefined;
      const flowOfRequest =
        typeof line.request_id === 'string' && byId.has(line.request_id)
          ? line.request_id
          : undefined;
      if (flowOfTask) {
        checked++;
        expect({ line: line.message, correlation_id: line.correlation_id }).toEqual({
          line: line.message,
          correlation_id: flowOfTask,
        });
      }
      if (flowOfRequest) {
        checked++;
        expect({
          line: line.message,
          correlation_id: line.correlation_id,
          task_id: line.task_id ?? null,
        }).toEqual({
          line: line.message,
          correlation_id: flowOfRequest,
          task_id:
            line['event.action'] === 'http-request' ||
            line['event.action'] === 'task-queued' ||
            service(line) === 'threadline-worker'
              ? byId.get(flowOfRequest)
              : (line.task_id ?? null),
        });
      }
    }
    expect(checked).toBeGreaterThan(200);
  });
});
