// Redis goes away: the API says 503 at once instead of hanging, and everything recovers by
// itself when Redis returns; no task that got a 202 is lost.
import { performance } from 'node:perf_hooks';
import { eventually, freePort, services } from '../support/services';
import { TestStack, type Task } from '../support/stack';

interface Problem {
  status: number;
  detail: string;
}

describe('Redis outage', () => {
  let url: string;
  let stack: TestStack;

  beforeAll(async () => {
    url = `redis://127.0.0.1:${await freePort()}`;
    services('up', 'redis', url);
    stack = new TestStack({
      REDIS_URL: url,
      WORKER_LOCK_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
    });
    await stack.startApi();
    await stack.startWorker();
  });
  afterAll(async () => {
    services('up', 'redis', url);
    await stack.stop();
    services('down', 'redis', url);
  });

  it('answers 503 with Retry-After in under a second, then recovers without restarts', async () => {
    const accepted: Task[] = await Promise.all(
      Array.from({ length: 20 }, (_, i) => stack.submit('echo', { message: i, delay_ms: 300 })),
    );

    services('down', 'redis', url);

    const t0 = performance.now();
    const submit = await stack.request<Problem>('POST', '/api/v1/tasks', {
      type: 'echo',
      data: {},
    });
    const submitMs = performance.now() - t0;
    expect(submit.status).toBe(503);
    expect(submit.headers.get('retry-after')).toBe('1');
    expect(submit.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(submit.body.detail).toMatch(
      /Redis\) is unavailable.*may not have been applied; retry in 1 s/,
    );
    expect(submitMs).toBeLessThan(1000);

    const t1 = performance.now();
    const poll = await stack.request<Problem>('GET', `/api/v1/tasks/${accepted[0].task_id}`);
    expect(poll.status).toBe(503);
    expect(poll.headers.get('retry-after')).toBe('1');
    expect(performance.now() - t1).toBeLessThan(1000);

    services('up', 'redis', url);

    const after = await eventually(async () => {
      const reply = await stack.request<Task>('POST', '/api/v1/tasks', {
        type: 'echo',
        data: { message: 'after' },
      });
      return reply.status === 202 ? reply.body : undefined;
    }, 'submissions to work again');

    for (const task of [...accepted, after]) {
      expect((await stack.until(task.task_id, ['completed', 'failed'])).status).toBe('completed');
    }
  });
});
