// Strict priority, as the old stack's BRPOP high medium low: a worker always takes from the
// first non-empty queue it serves; within a queue, lower `priority` runs first. With shards
// (REDIS_SHARDS), the classes stay strict across them; within a class, order holds per shard.
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SHARD_VIEW_MS } from '../../src/workers/sharded-taker';
import { REDIS_URL } from '../support/services';
import { TestStack, type Task } from '../support/stack';

function started(task: Task): number {
  return Date.parse(task.started_at ?? '');
}

/** An Idempotency-Key whose task goes to `shard` of `stack`. */
function keyOnShard(stack: TestStack, shard: number): string {
  for (;;) {
    const key = randomUUID();
    if (stack.shards.ofString(key) === shard) return key;
  }
}

/** Submits `count` tasks of `queue` at once, 100 at a time. */
async function submitMany(
  stack: TestStack,
  count: number,
  queue: string,
  data = {},
): Promise<Task[]> {
  const tasks: Task[] = [];
  for (let i = 0; i < count; i += 100) {
    const batch = Math.min(100, count - i);
    tasks.push(
      ...(await Promise.all(
        Array.from({ length: batch }, () => stack.submit('echo', data, { queue })),
      )),
    );
  }
  return tasks;
}

/** Each task as it is now, 100 reads at a time. */
async function readAll(stack: TestStack, tasks: readonly Task[]): Promise<Task[]> {
  const read: Task[] = [];
  for (let i = 0; i < tasks.length; i += 100) {
    read.push(...(await Promise.all(tasks.slice(i, i + 100).map((t) => stack.task(t.task_id)))));
  }
  return read;
}

/** Waits until every one of `tasks` has completed, and returns them. */
async function allCompleted(stack: TestStack, tasks: readonly Task[]): Promise<Task[]> {
  for (;;) {
    const read = await readAll(stack, tasks);
    if (read.every((t) => t.status === 'completed')) return read;
    await sleep(200);
  }
}

describe('priority', () => {
  // One client queues 1,001 tasks at once here: above the default quota.
  const stack = new TestStack({ QUOTA_TASKS_PER_CLIENT: '2000' });

  beforeAll(() => stack.startApi());
  afterAll(() => stack.stop());

  it('runs a high task submitted behind 1,000 queued low tasks before all of them', async () => {
    const lows = await submitMany(stack, 1000, 'low');
    const high = await stack.submit('echo', {}, { queue: 'high' });

    await stack.startWorker({ WORKER_CONCURRENCY: '1' });
    const highDone = await stack.until(high.task_id, ['completed']);
    const lowTasks = await allCompleted(stack, lows);
    // With one slot, the high task had finished before the first low one started.
    const earliestLow = Math.min(...lowTasks.map(started));
    expect(earliestLow).toBeGreaterThanOrEqual(Date.parse(highDone.finished_at ?? ''));
  }, 180_000);

  it('orders tasks within a queue (of a shard) by priority, then by submission', async () => {
    const blocker = await stack.submit('echo', { delay_ms: 500 }, { queue: 'medium' });
    await stack.until(blocker.task_id, ['active']);
    // On one shard, as the promise is (with one shard, every key is on it).
    const onShard = (priority: number): Promise<Task> =>
      stack
        .request<Task>(
          'POST',
          '/api/v1/tasks',
          { type: 'echo', data: {}, queue: 'medium', priority },
          { 'Idempotency-Key': keyOnShard(stack, 0) },
        )
        .then((reply) => reply.body);
    const late = await onShard(90);
    const first = await onShard(10);
    const second = await onShard(10);
    const [l, f, s] = await Promise.all(
      [late, first, second].map((t) => stack.until(t.task_id, ['completed'])),
    );
    expect(started(f)).toBeLessThanOrEqual(started(s));
    expect(started(s)).toBeLessThanOrEqual(started(l));
    expect(Date.parse(f.started_at ?? '')).toBeGreaterThanOrEqual(
      Date.parse((await stack.task(blocker.task_id)).finished_at ?? ''),
    );
  });

  it('serves its three queues on one connection and one blocking wait per shard, not one per queue', async () => {
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
        ...stack.shards.prefixes.map(() => 'threadline-worker-wait'),
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

describe('priority across 3 shards', () => {
  const stack = new TestStack({ QUOTA_TASKS_PER_CLIENT: '2000', REDIS_SHARDS: '3' });

  beforeAll(() => stack.startApi());
  afterAll(() => stack.stop());

  it('runs every high task, on any shard, before every medium one, and those before every low one', async () => {
    const lows = await submitMany(stack, 300, 'low');
    const mediums = await submitMany(stack, 150, 'medium');
    const highs = await submitMany(stack, 30, 'high');
    const onShards = (tasks: Task[]): number =>
      new Set(tasks.map((t) => stack.prefixOfTask(t.task_id))).size;
    expect([onShards(lows), onShards(mediums), onShards(highs)]).toEqual([3, 3, 3]);

    await stack.startWorker({ WORKER_CONCURRENCY: '1' });
    const [h, m, l] = await Promise.all(
      [highs, mediums, lows].map((tasks) => allCompleted(stack, tasks)),
    );
    // One slot: each class had finished before the next one's first task started.
    const lastFinish = (tasks: Task[]): number =>
      Math.max(...tasks.map((t) => Date.parse(t.finished_at ?? '')));
    expect(Math.min(...m.map(started))).toBeGreaterThanOrEqual(lastFinish(h));
    expect(Math.min(...l.map(started))).toBeGreaterThanOrEqual(lastFinish(m));
  }, 180_000);

  it(`takes a high task queued on another shard while it is busy within ${SHARD_VIEW_MS} ms of the view`, async () => {
    const lows = await submitMany(stack, 200, 'low', { delay_ms: 20 });
    await stack.startWorker({ WORKER_CONCURRENCY: '1' });
    await stack.until(lows[0].task_id, ['active', 'completed']);
    // On a shard the running low task is not on: only the view across shards can find it.
    const busy = (await readAll(stack, lows)).find((t) => t.status === 'active');
    const shard = busy ? stack.shards.ofTask(busy.task_id) : 0;
    const reply = await stack.request<Task>(
      'POST',
      '/api/v1/tasks',
      { type: 'echo', data: {}, queue: 'high' },
      { 'Idempotency-Key': keyOnShard(stack, (shard + 1) % 3) },
    );
    const visibleAt = Date.now();
    const high = await stack.until(reply.body.task_id, ['completed']);
    const done = await allCompleted(stack, lows);
    // Low tasks taken after the high one was visible to the worker: only within its view's age
    // (plus the low task then running, and a margin for a busy machine).
    const passedOver = done.filter(
      (t) => started(t) > visibleAt + SHARD_VIEW_MS + 250 && started(t) < started(high),
    );
    expect(passedOver.map((t) => t.started_at)).toEqual([]);
    expect(started(high)).toBeLessThan(Math.max(...done.map(started)));
  }, 180_000);
});
