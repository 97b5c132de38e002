// How a worker takes its tasks, on the real Redis: one script over the queues it serves, in
// strict priority order, built from BullMQ's own moveToActive (src/queues/queue-scripts.ts).
import { Job, Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TASK_QUEUES, type TaskQueue } from '../../src/config/queue-names';
import type { TaskEnvelope } from '../../src/queues/task';
import { TaskTaker } from '../../src/workers/task-taker';
import { deleteKeys } from '../support/in-process';
import { REDIS_URL } from '../support/services';

const LOCK_MS = 30_000;

describe(TaskTaker.name, () => {
  let prefix: string;
  let connection: Redis;
  let queues: Record<TaskQueue, Queue>;
  let workers: Record<TaskQueue, Worker<TaskEnvelope>>;
  let tokens = 0;

  beforeEach(() => {
    prefix = `tl-int-${randomUUID().slice(0, 8)}`;
    connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const each = <T>(make: (name: TaskQueue) => T): Record<TaskQueue, T> =>
      Object.fromEntries(TASK_QUEUES.map((name) => [name, make(name)])) as Record<TaskQueue, T>;
    queues = each((name) => new Queue(name, { connection, prefix }));
    workers = each(
      (name) =>
        new Worker<TaskEnvelope>(name, null, {
          connection,
          prefix,
          autorun: false,
          lockDuration: LOCK_MS,
        }),
    );
  });

  afterEach(async () => {
    await Promise.all(Object.values(workers).map((w) => w.close()));
    await Promise.all(Object.values(queues).map((q) => q.close()));
    await connection.quit();
    await deleteKeys(prefix);
  });

  /** A taker serving `served`, in that order, as a worker with WORKER_QUEUES=served. */
  function taker(served: TaskQueue[] = ['high', 'medium', 'low']): TaskTaker {
    return new TaskTaker(
      connection,
      served.map((name) => workers[name]),
      { ms: LOCK_MS, workerName: 'test-worker' },
    );
  }

  async function add(queue: TaskQueue, label: string, delay = 0): Promise<string> {
    const job = await queues[queue].add(
      'echo',
      { input: label, meta: { submitted_at: new Date().toISOString() } },
      { jobId: `${queue}-${label}`, priority: 50, attempts: 3, delay },
    );
    return job.id ?? '';
  }

  async function takeId(from: TaskTaker): Promise<string | undefined> {
    return (await from.take(`test:${tokens++}`))?.id;
  }

  it('takes from the first non-empty queue, so a high task queued mid-drain is next', async () => {
    for (const label of ['1', '2']) await add('low', label);
    for (const label of ['1', '2']) await add('medium', label);
    const loop = taker();

    expect(await takeId(loop)).toBe('medium-1');
    await add('high', '1');
    expect(await takeId(loop)).toBe('high-1');
    expect(await takeId(loop)).toBe('medium-2');
    expect(await takeId(loop)).toBe('low-1');
    expect(await takeId(loop)).toBe('low-2');
    expect(await takeId(loop)).toBeUndefined();
  });

  it('takes a low task in one round trip, asking high and medium in the same script', async () => {
    const loop = taker();
    // Once, so that Redis has the script (the first call may add an EVAL after NOSCRIPT).
    expect(await takeId(loop)).toBeUndefined();
    await add('low', '1');
    const sent = jest.spyOn(connection, 'sendCommand');

    expect(await takeId(loop)).toBe('low-1');

    expect(sent.mock.calls.map(([command]) => command.name)).toEqual(['evalsha']);
    sent.mockRestore();
  });

  it('never touches a queue it does not serve (WORKER_QUEUES=medium,low)', async () => {
    await add('high', '1');
    await add('low', '1');

    expect(await takeId(taker(['medium', 'low']))).toBe('low-1');
    expect(await queues.high.getJobState('high-1')).toBe('prioritized');
    expect(await takeId(taker(['medium', 'low']))).toBeUndefined();
  });

  it('skips a paused queue', async () => {
    await queues.high.pause();
    await add('high', '1');
    await add('medium', '1');

    expect(await takeId(taker())).toBe('medium-1');
    await queues.high.resume();
    expect(await takeId(taker())).toBe('high-1');
  });

  it('promotes a high task whose delay has passed ahead of a waiting medium one', async () => {
    await add('high', 'retry', 20);
    await add('medium', '1');
    // Wait out the delay (not a margin: the task is due from then on).
    await sleep(40);

    expect(await takeId(taker())).toBe('high-retry');
  });

  it('locks the task it takes and counts its start, as BullMQ does', async () => {
    await add('medium', '1');
    const token = `test:${tokens++}`;

    const job = await taker().take(token);

    expect(job).toBeInstanceOf(Job);
    expect(job).toMatchObject({ id: 'medium-1', name: 'echo', token, attemptsStarted: 1 });
    expect(job?.data).toEqual({ input: '1', meta: expect.any(Object) as unknown });
    expect(job?.processedOn).toEqual(expect.any(Number));
    expect(await queues.medium.getJobState('medium-1')).toBe('active');
    const lockKey = `${prefix}:medium:medium-1:lock`;
    expect(await connection.get(lockKey)).toBe(token);
    const ttl = await connection.pttl(lockKey);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(LOCK_MS);
    // The worker's own BullMQ calls accept the lock: the task completes with its token.
    await job?.moveToCompleted({ ok: true }, token, false);
    expect(await queues.medium.getJobState('medium-1')).toBe('completed');
  });
});
