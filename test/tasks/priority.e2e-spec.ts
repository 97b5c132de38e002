// Strict priority, as the old stack's BRPOP high medium low: a worker always takes from the
// first non-empty queue it serves; within a queue, lower `priority` runs first.
import Redis from 'ioredis';
import { REDIS_URL } from '../support/services';
import { TestStack, type Task } from '../support/stack';

function started(task: Task): number {
  return Date.parse(task.started_at ?? '');
}

describe('priority', () => {
  // One client queues 1,001 tasks at once here: above the default quota.
  const stack = new TestStack({ QUOTA_TASKS_PER_CLIENT: '2000' });

  beforeAll(() => stack.startApi());
  afterAll(() => stack.stop());

  it('runs a high task submitted behind 1,000 queued low tasks before all of them', async () => {
    const lows: Task[] = [];
    for (let batch = 0; batch < 10; batch++) {
      lows.push(
        ...(await Promise.all(
          Array.from({ length: 100 }, () => stack.submit('echo', {}, { queue: 'low' })),
        )),
      );
    }
    const high = await stack.submit('echo', {}, { queue: 'high' });

    await stack.startWorker({ WORKER_CONCURRENCY: '1' });
    const highDone = await stack.until(high.task_id, ['completed']);
    const lastLow = await stack.until(lows[lows.length - 1].task_id, ['completed'], 120_000);
    expect(started(lastLow)).toBeGreaterThanOrEqual(started(highDone));

    const lowTasks: Task[] = [];
    for (let i = 0; i < lows.length; i += 100) {
      lowTasks.push(
        ...(await Promise.all(lows.slice(i, i + 100).map((t) => stack.task(t.task_id)))),
      );
    }
    const earliestLow = Math.min(...lowTasks.map(started));
    expect(lowTasks.every((t) => t.status === 'completed')).toBe(true);
    // With one slot, the high task had finished before the first low one started.
    expect(earliestLow).toBeGreaterThanOrEqual(Date.parse(highDone.finished_at ?? ''));
  }, 180_000);

  it('orders tasks within a queue by priority, then by submission', async () => {
    const blocker = await stack.submit('echo', { delay_ms: 500 }, { queue: 'medium' });
    await stack.until(blocker.task_id, ['active']);
    const late = await stack.submit('echo', {}, { queue: 'medium', priority: 90 });
    const first = await stack.submit('echo', {}, { queue: 'medium', priority: 10 });
    const second = await stack.submit('echo', {}, { queue: 'medium', priority: 10 });
    const [l, f, s] = await Promise.all(
      [late, first, second].map((t) => stack.until(t.task_id, ['completed'])),
    );
    expect(started(f)).toBeLessThanOrEqual(started(s));
    expect(started(s)).toBeLessThanOrEqual(started(l));
    expect(Date.parse(f.started_at ?? '')).toBeGreaterThanOrEqual(
      Date.parse((await stack.task(blocker.task_id)).finished_at ?? ''),
    );
  });

  it('serves its three queues on one connection and one blocking wait, not one per queue', async () => {
    const worker = await stack.startWorker();
    const redis = new Redis(REDIS_URL);
    try {
      const names = ((await redis.client('LIST')) as string)
        .split('\n')
        .map((client) => / name=(\S*)/.exec(client)?.[1] ?? '')
        .filter((name) => name.includes(`:${worker.pid}:`));
      // BullMQ's Worker would add an idle blocking connection per queue (`<prefix>:<queue>:w:<id>`).
      expect(names.map((name) => name.split(':')[0]).sort()).toEqual([
        'threadline-worker',
        'threadline-worker-wait',
      ]);
    } finally {
      await redis.quit();
      worker.kill('SIGTERM');
      await worker.exited;
    }
  });

  it('honours WORKER_QUEUES: a worker for high,medium never takes a low task', async () => {
    const only = new TestStack();
    await only.startApi();
    try {
      const worker = await only.startWorker({ WORKER_QUEUES: 'high,medium' });
      const low = await only.submit('echo', {}, { queue: 'low' });
      const high = await only.submit('echo', {}, { queue: 'high' });
      const medium = await only.submit('echo', {}, { queue: 'medium' });
      await only.until(high.task_id, ['completed']);
      await only.until(medium.task_id, ['completed']);
      expect((await only.task(low.task_id)).status).toBe('queued');

      const queues = await only.request<{ workers: { pid: number; queues: string[] }[] }>(
        'GET',
        '/api/v1/queues',
      );
      expect(queues.body.workers).toEqual([
        expect.objectContaining({ pid: worker.pid, queues: ['high', 'medium'] }),
      ]);

      await only.startWorker({ WORKER_QUEUES: 'low' });
      await only.until(low.task_id, ['completed']);
    } finally {
      await only.stop();
    }
  });
});
