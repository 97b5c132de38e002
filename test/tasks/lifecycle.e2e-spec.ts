// Submit → run → result, for every task type, through the real API and a real worker.
import Redis from 'ioredis';
import { TestStack, type Task } from '../support/stack';

const Z95 = 1.6448536269514722;
const Z99 = 2.3263478740408408;

describe('task lifecycle', () => {
  const stack = new TestStack();

  beforeAll(async () => {
    await stack.startApi();
    await stack.startWorker({ WORKER_QUEUES: 'high,medium' });
  });
  afterAll(() => stack.stop());

  it('answers 202 with the task, a Location, and then completes it', async () => {
    const reply = await stack.request<Task>('POST', '/api/v1/tasks', {
      type: 'echo',
      data: { message: { hello: 'world' } },
    });
    expect(reply.status).toBe(202);
    expect(reply.headers.get('location')).toBe(`/api/v1/tasks/${reply.body.task_id}`);
    expect(reply.body).toEqual({
      task_id: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
      type: 'echo',
      queue: 'medium',
      priority: 50,
      status: 'queued',
      created_at: expect.any(String) as unknown,
      links: {
        self: `/api/v1/tasks/${reply.body.task_id}`,
        trace: `/api/v1/traces/${reply.body.task_id}`,
      },
    });
    const done = await stack.until(reply.body.task_id, ['completed']);
    expect(done).toMatchObject({
      status: 'completed',
      progress: 100,
      attempts: 1,
      result: { message: { hello: 'world' }, attempt: 1 },
    });
    expect(done.created_at).toBe(reply.body.created_at);
    expect(Date.parse(done.started_at ?? '')).toBeGreaterThanOrEqual(Date.parse(done.created_at));
    expect(Date.parse(done.finished_at ?? '')).toBeGreaterThanOrEqual(
      Date.parse(done.started_at ?? ''),
    );
  });

  it('keeps results and failures for RESULT_TTL_S (7 days by default)', async () => {
    const task = await stack.submit('echo', {});
    await stack.until(task.task_id, ['completed']);
    const redis = new Redis(stack.env.REDIS_URL);
    const opts = JSON.parse(
      (await redis.hget(`${stack.prefixOfTask(task.task_id)}:medium:${task.task_id}`, 'opts')) ??
        '{}',
    ) as Record<string, unknown>;
    await redis.quit();
    expect(opts).toMatchObject({
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  });

  it('parametric VaR of one asset equals z·σ·√h·V', async () => {
    const task = await stack.submit('calculate_var', {
      method: 'parametric',
      positions: [{ asset: 'AAA', value: 1_000_000 }],
      covariance: [[0.0004]],
      confidence: 0.99,
      horizon_days: 10,
    });
    const done = await stack.until(task.task_id, ['completed', 'failed']);
    const result = done.result as { var: number; expected_shortfall: number };
    expect(result.var).toBeCloseTo(Z99 * 0.02 * Math.sqrt(10) * 1_000_000, 3);
  });

  it('parametric VaR of two assets matches the hand calculation', async () => {
    const task = await stack.submit('calculate_var', {
      method: 'parametric',
      positions: [
        { asset: 'A', value: 100 },
        { asset: 'B', value: 200 },
      ],
      covariance: [
        [0.0004, 0.0003],
        [0.0003, 0.0009],
      ],
      confidence: 0.95,
    });
    const done = await stack.until(task.task_id, ['completed', 'failed']);
    expect((done.result as { var: number }).var).toBeCloseTo(Z95 * Math.sqrt(52), 6);
  });

  it('historical VaR is the known quantile of the history', async () => {
    const returns = Array.from({ length: 100 }, (_, t) => (t - 50) / 1000).reverse();
    const task = await stack.submit('calculate_var', {
      method: 'historical',
      positions: [{ asset: 'X', value: 1000 }],
      returns: { X: returns },
      confidence: 0.95,
    });
    const done = await stack.until(task.task_id, ['completed', 'failed']);
    expect(done.result).toMatchObject({
      method: 'historical',
      var: 46,
      expected_shortfall: 48,
      observations: 100,
    });
  });

  it('Monte Carlo VaR approaches the closed form and repeats for one seed', async () => {
    const data = {
      method: 'monte_carlo',
      positions: [{ asset: 'AAA', value: 1_000_000 }],
      covariance: [[0.0004]],
      confidence: 0.95,
      simulations: 100_000,
      seed: 7,
    };
    const [a, b] = await Promise.all([
      stack.submit('calculate_var', data),
      stack.submit('calculate_var', data),
    ]);
    const [doneA, doneB] = await Promise.all([
      stack.until(a.task_id, ['completed', 'failed']),
      stack.until(b.task_id, ['completed', 'failed']),
    ]);
    const closed = Z95 * 0.02 * 1_000_000;
    expect(Math.abs((doneA.result as { var: number }).var - closed) / closed).toBeLessThan(0.03);
    expect(doneB.result).toEqual(doneA.result);
  });

  it('batch_var runs ten portfolios as child tasks and aggregates them in order', async () => {
    const portfolios = Array.from({ length: 10 }, (_, i) => ({
      method: 'parametric',
      positions: [{ asset: 'A', value: 1000 * (i + 1) }],
      covariance: [[0.0001]],
      confidence: 0.95,
    }));
    const task = await stack.submit('batch_var', { portfolios });
    const done = await stack.until(task.task_id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    const result = done.result as {
      portfolios: number;
      results: { var: number }[];
      sum_of_var: number;
      largest: { index: number };
    };
    expect(result.portfolios).toBe(10);
    result.results.forEach((r, i) => expect(r.var).toBeCloseTo(Z95 * 0.01 * 1000 * (i + 1), 6));
    expect(result.sum_of_var).toBeCloseTo(Z95 * 0.01 * 1000 * 55, 6);
    expect(result.largest.index).toBe(9);
  });

  it('reports progress while a long task runs', async () => {
    const task = await stack.submit('echo', { delay_ms: 3000 });
    const running = await stack.until(task.task_id, ['active']);
    expect(running.status).toBe('active');
    const midway = await eventuallyProgress(stack, task.task_id);
    expect(midway).toBeGreaterThan(0);
    expect(midway).toBeLessThan(100);
    await stack.until(task.task_id, ['completed']);
  });

  it('cancels a task that has not started, and says so when polled', async () => {
    // This file's worker does not serve `low`, so a task there stays queued.
    const victim = await stack.submit('echo', {}, { queue: 'low' });
    const cancelled = await stack.request<Task>('DELETE', `/api/v1/tasks/${victim.task_id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ task_id: victim.task_id, status: 'cancelled' });
    expect((await stack.task(victim.task_id)).status).toBe('cancelled');
    expect((await stack.request('DELETE', `/api/v1/tasks/${victim.task_id}`)).status).toBe(200);
  });

  it('refuses to cancel a running or finished task with 409', async () => {
    const running = await stack.submit('echo', { delay_ms: 1500 });
    await stack.until(running.task_id, ['active']);
    const whileRunning = await stack.request<{ detail: string }>(
      'DELETE',
      `/api/v1/tasks/${running.task_id}`,
    );
    expect(whileRunning.status).toBe(409);
    expect(whileRunning.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(whileRunning.body.detail).toMatch(/already started or finished \(status active\)/);

    const finished = await stack.until(running.task_id, ['completed']);
    expect(finished.result).toMatchObject({ delay_ms: 1500 });
    expect((await stack.request('DELETE', `/api/v1/tasks/${running.task_id}`)).status).toBe(409);
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    const unknown = await stack.request<{ status: number; detail: string }>(
      'GET',
      '/api/v1/tasks/00000000-0000-4000-8000-000000000000',
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toMatch(/No task/);
    const malformed = await stack.request<{ status: number; detail: string }>(
      'GET',
      '/api/v1/tasks/not-a-uuid',
    );
    expect(malformed.status).toBe(400);
    expect(malformed.body.detail).toMatch(/is not a task id/);
    expect((await stack.request('DELETE', '/api/v1/tasks/not-a-uuid')).status).toBe(400);
    expect(
      (await stack.request('DELETE', '/api/v1/tasks/00000000-0000-4000-8000-000000000000')).status,
    ).toBe(404);
  });

  it('shows queue depths and the live workers, as Flower did', async () => {
    const reply = await stack.request<{
      queues: Record<string, Record<string, number>>;
      workers: { queues: string[]; pid: number }[];
    }>('GET', '/api/v1/queues');
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body.queues)).toEqual(['high', 'medium', 'low']);
    expect(reply.body.queues.medium.completed).toBeGreaterThan(0);
    expect(reply.body.workers).toHaveLength(1);
    expect(reply.body.workers[0].queues).toEqual(['high', 'medium']);
  });
});

async function eventuallyProgress(stack: TestStack, id: string): Promise<number> {
  for (;;) {
    const task = await stack.task(id);
    if (task.status !== 'active')
      throw new Error(`task left active before reporting progress: ${task.status}`);
    if (task.progress > 0) return task.progress;
    await new Promise((r) => setTimeout(r, 100));
  }
}
