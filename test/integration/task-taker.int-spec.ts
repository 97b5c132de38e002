// How a worker takes its tasks, on the real Redis: one script over the queues it serves, in
// strict priority order, built from BullMQ's own moveToActive (src/queues/queue-scripts.ts).
import { FlowProducer, Job, Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TASK_QUEUES, type TaskQueue } from '../../src/config/queue-names';
import type { TaskEnvelope } from '../../src/queues/task';
import { LockRenewal } from '../../src/workers/lock-renewal';
import { TaskTaker } from '../../src/workers/task-taker';
import { deleteKeys } from '../support/in-process';
import { eventually, REDIS_URL } from '../support/services';

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
          // Started only where a test kills a worker.
          stalledInterval: 100,
          maxStalledCount: 1,
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
  function taker(served: TaskQueue[] = ['high', 'medium', 'low'], lockMs = LOCK_MS): TaskTaker {
    return new TaskTaker(
      connection,
      served.map((name) => workers[name]),
      { ms: lockMs, workerName: 'test-worker' },
    );
  }

  function nextToken(): string {
    return `test:${tokens++}`;
  }

  async function held(from: TaskTaker): Promise<{ job: Job<TaskEnvelope>; token: string }> {
    const token = nextToken();
    const job = await from.take(token);
    if (!job) throw new Error('no task to take');
    return { job, token };
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

  it('peeks at the first queue with a task ready, taking nothing', async () => {
    const loop = taker();
    expect(await loop.peek()).toBe(0);
    await add('low', '1');
    expect(await loop.peek()).toBe(3);
    await add('medium', '1');
    expect(await loop.peek()).toBe(2);
    expect(await takeId(loop)).toBe('medium-1');
    expect(await loop.peek()).toBe(3);
  });

  it('peeks at a retry whose backoff is over, which the take then promotes', async () => {
    const loop = taker();
    await add('high', 'later', 60_000);
    await add('medium', 'soon', 200);
    expect(await loop.peek()).toBe(0);
    await sleep(300);
    expect(await loop.peek()).toBe(2);
    expect(await loop.take(nextToken(), 2)).toMatchObject({ id: 'medium-soon' });
  });

  it('takes only from the first `upTo` served queues when asked (a class seen on another shard)', async () => {
    await add('low', '1');
    const loop = taker();
    expect(await loop.take(nextToken(), 2)).toBeUndefined();
    await add('medium', '1');
    expect((await loop.take(nextToken(), 2))?.id).toBe('medium-1');
    expect(await takeId(loop)).toBe('low-1');
  });

  describe('complete', () => {
    it('records the result, drops the input and takes the next task, in one round trip', async () => {
      for (const label of ['1', '2']) await add('medium', label);
      const loop = taker();
      const first = await held(loop);
      const sent = jest.spyOn(connection, 'sendCommand');
      const token = nextToken();

      const next = await loop.complete(first.job, first.token, { ok: 1 }, token);

      expect(sent.mock.calls.map(([command]) => command.name)).toEqual(['evalsha']);
      sent.mockRestore();
      expect(next).toMatchObject({ id: 'medium-2', token, attemptsStarted: 1 });
      expect(await connection.get(`${prefix}:medium:medium-2:lock`)).toBe(token);
      expect(first.job).toMatchObject({ returnvalue: { ok: 1 }, attemptsMade: 1 });
      expect(first.job.data.input).toBeNull();
      const done = await Job.fromId<TaskEnvelope>(queues.medium, 'medium-1');
      expect(await done?.getState()).toBe('completed');
      expect(done?.returnvalue).toEqual({ ok: 1 });
      expect(done?.data).toEqual({ input: null, meta: first.job.data.meta });
      expect(done?.attemptsMade).toBe(1);
    });

    it('completes and takes nothing below `upTo`, leaving the lower task queued', async () => {
      for (const label of ['1', '2']) await add('medium', label);
      const loop = taker();
      const first = await held(loop);

      expect(await loop.complete(first.job, first.token, 1, nextToken(), 1)).toBeUndefined();

      expect(await (await Job.fromId(queues.medium, 'medium-1'))?.getState()).toBe('completed');
      expect(await (await Job.fromId(queues.medium, 'medium-2'))?.getState()).toBe('prioritized');
    });

    it('takes a high task queued while mediums are drained next, not the next medium', async () => {
      for (const label of ['1', '2']) await add('medium', label);
      await add('low', '1');
      const loop = taker();
      const first = await held(loop);
      await add('high', '1');

      const high = await loop.complete(first.job, first.token, null, nextToken());
      expect(high?.id).toBe('high-1');
      const medium = await loop.complete(
        high as Job<TaskEnvelope>,
        high?.token ?? '',
        null,
        nextToken(),
      );
      expect(medium?.id).toBe('medium-2');
      const low = await loop.complete(
        medium as Job<TaskEnvelope>,
        medium?.token ?? '',
        null,
        nextToken(),
      );
      expect(low?.id).toBe('low-1');
      expect(
        await loop.complete(low as Job<TaskEnvelope>, low?.token ?? '', null, nextToken()),
      ).toBeUndefined();
      expect(await queues.low.getJobState('low-1')).toBe('completed');
    });

    it("takes the parent a child releases, in a higher queue, with the child's completion", async () => {
      const flows = new FlowProducer({ connection, prefix });
      await flows.add({
        name: 'batch_var',
        queueName: 'high',
        data: { input: null, meta: { submitted_at: new Date().toISOString(), children: 1 } },
        opts: { jobId: 'parent' },
        children: [
          {
            name: 'echo',
            queueName: 'medium',
            data: { input: '1', meta: {} },
            opts: { jobId: 'child' },
          },
        ],
      });
      await add('medium', 'other');
      await flows.close();
      const loop = taker();
      const child = await held(loop);
      expect(child.job.id).toBe('child');

      const next = await loop.complete(child.job, child.token, { index: 0 }, nextToken());

      expect(next?.id).toBe('parent');
      expect(await next?.getChildrenValues()).toEqual({ [`${prefix}:medium:child`]: { index: 0 } });
    });

    it('takes nothing, drops nothing and counts nothing when the lock is not its own', async () => {
      for (const label of ['1', '2']) await add('medium', label);
      const loop = taker();
      const first = await held(loop);

      await expect(
        loop.complete(first.job, 'not-the-token', { ok: 1 }, nextToken()),
      ).rejects.toThrow(/lock/i);

      expect(await queues.medium.getJobState('medium-1')).toBe('active');
      expect(await queues.medium.getJobState('medium-2')).toBe('prioritized');
      const stored = await Job.fromId<TaskEnvelope>(queues.medium, 'medium-1');
      expect(stored?.data.input).toBe('1');
      expect(stored?.attemptsMade).toBe(0);
      expect((await Job.fromId<TaskEnvelope>(queues.medium, 'medium-2'))?.attemptsStarted).toBe(0);
      // The holder can still complete it.
      await loop.complete(first.job, first.token, { ok: 1 });
      expect(await queues.medium.getJobState('medium-1')).toBe('completed');
    });

    it('takes nothing when given no next token (the worker is stopping)', async () => {
      for (const label of ['1', '2']) await add('medium', label);
      const loop = taker();
      const first = await held(loop);

      expect(await loop.complete(first.job, first.token, { ok: 1 })).toBeUndefined();

      expect(await queues.medium.getJobState('medium-1')).toBe('completed');
      expect(await queues.medium.getJobState('medium-2')).toBe('prioritized');
    });

    it('counts attempts the same for a task taken by a completion when its worker dies', async () => {
      for (const label of ['1', '2', '3']) await add('medium', label);
      // A worker that dies renews no lock: each runs out after 300 ms.
      const dying = taker(['high', 'medium', 'low'], 300);
      const first = await held(dying);
      const byCompletion = await dying.complete(first.job, first.token, null, nextToken());
      const byTake = await held(dying);
      expect([byCompletion?.id, byTake.job.id]).toEqual(['medium-2', 'medium-3']);
      // The worker is killed here. Another worker's stalled check hands both tasks back.
      void workers.medium.startStalledCheckTimer();
      for (const id of ['medium-2', 'medium-3']) {
        await eventually(
          // BullMQ puts a stalled task at the head of its queue's wait list.
          async () => ((await queues.medium.getJobState(id)) === 'waiting' ? true : undefined),
          `${id} to be back in its queue`,
        );
      }

      const rescuer = taker();
      const again = [await held(rescuer), await held(rescuer)];

      const counted = again.map(({ job }) => [job.id, job.attemptsStarted, job.stalledCounter]);
      expect(counted.sort()).toEqual([
        ['medium-2', 2, 1],
        ['medium-3', 2, 1],
      ]);
    });
  });

  describe(LockRenewal.name, () => {
    it('extends every held lock with one call per queue, however many tasks it holds', async () => {
      for (const label of ['1', '2', '3']) await add('medium', label);
      await add('high', '1');
      const shortLocks = taker(['high', 'medium', 'low'], 1000);
      const byName = new Map(Object.values(workers).map((w) => [w.qualifiedName, w]));
      const renewal = new LockRenewal(byName, LOCK_MS, (message) => {
        throw new Error(message);
      });
      const taken = [];
      for (let i = 0; i < 4; i++) taken.push(await held(shortLocks));
      for (const { job, token } of taken) renewal.held.set(job, token);
      const lockKey = (job: Job<TaskEnvelope>): string =>
        `${prefix}:${job.queueName}:${job.id}:lock`;
      // Once, so that Redis has BullMQ's script; then the locks are short again.
      await renewal.renew();
      for (const { job } of taken) await connection.pexpire(lockKey(job), 1000);
      const sent = jest.spyOn(connection, 'sendCommand');

      await renewal.renew();

      expect(sent.mock.calls.map(([command]) => command.name)).toEqual(['evalsha', 'evalsha']);
      sent.mockRestore();
      for (const { job, token } of taken) {
        expect(await connection.get(lockKey(job))).toBe(token);
        expect(await connection.pttl(lockKey(job))).toBeGreaterThan(1000);
      }
    });
  });
});
