// Per-client quotas, fair rotation, expiry of tasks nobody takes, and what a task keeps in
// Redis: one client cannot fill Redis or hold the workers for everyone else.
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { SHARD_RUN } from '../../src/workers/sharded-taker';
import { REDIS_URL, eventually } from '../support/services';
import { TestStack, type Task } from '../support/stack';

const ALICE = `alice-${randomUUID().replaceAll('-', '')}`;
const BOB = `bob-${randomUUID().replaceAll('-', '')}`;
const as = (key: string) => ({ authorization: `Bearer ${key}` });

interface Problem {
  status: number;
  title: string;
  detail: string;
  quota?: string;
  limit?: number;
  used?: number;
  requested?: number;
}

/** The job's stored `data` (input and meta), as BullMQ keeps it in Redis. */
async function storedData(
  redis: Redis,
  stack: TestStack,
  queue: string,
  id: string,
): Promise<{ input: unknown; meta: Record<string, unknown> } | undefined> {
  const raw = await redis.hget(`${stack.prefixOfTask(id)}:${queue}:${id}`, 'data');
  return raw === null
    ? undefined
    : (JSON.parse(raw) as { input: unknown; meta: Record<string, unknown> });
}

describe('quotas per client', () => {
  const stack = new TestStack({
    API_KEYS: `alice:${ALICE},bob:${BOB}`,
    QUOTA_TASKS_PER_CLIENT: '5',
    QUOTA_BYTES_PER_CLIENT: '12000',
    RATE_LIMIT_PER_MINUTE: '100000',
    // Exact counts of one quota; 'quotas split over shards' below has them sharded.
    REDIS_SHARDS: '1',
  });
  const submit = (key: string, data: unknown, type = 'echo') =>
    stack.request<Task & Problem>('POST', '/api/v1/tasks', { type, data }, as(key));

  beforeAll(async () => {
    await stack.startApi();
  });
  afterAll(() => stack.stop());

  it('answers 429 naming QUOTA_TASKS_PER_CLIENT once a key has that many unfinished tasks, and other keys go on', async () => {
    const accepted: string[] = [];
    for (let i = 0; i < 5; i++) {
      const reply = await submit(ALICE, { message: i });
      expect(reply.status).toBe(202);
      accepted.push(reply.body.task_id);
    }
    const refused = await submit(ALICE, { message: 'one too many' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.body).toMatchObject({
      quota: 'QUOTA_TASKS_PER_CLIENT',
      limit: 5,
      used: 5,
      requested: 1,
    });
    expect(refused.body.detail).toMatch(/API key "alice" holds 5 unfinished tasks/);

    // Another client is not affected.
    expect((await submit(BOB, { message: 'bob is fine' })).status).toBe(202);

    // A cancelled task gives its place back at once.
    const cancelled = await stack.request(
      'DELETE',
      `/api/v1/tasks/${accepted[0]}`,
      undefined,
      as(ALICE),
    );
    expect(cancelled.status).toBe(200);
    expect((await submit(ALICE, { message: 'after a cancel' })).status).toBe(202);
    expect((await submit(ALICE, { message: 'full again' })).status).toBe(429);

    // Finished tasks give theirs back: a worker runs them, and the key may submit again.
    await stack.startWorker();
    for (const id of accepted.slice(1)) {
      await eventually(async () => {
        const reply = await stack.request<Task>('GET', `/api/v1/tasks/${id}`, undefined, as(ALICE));
        return reply.body.status === 'completed' ? true : undefined;
      }, `task ${id} to complete`);
    }
    await eventually(
      async () =>
        (await submit(ALICE, { message: 'room again' })).status === 202 ? true : undefined,
      'the quota to be given back',
    );
    await stack.stopWorkers();
  });

  it('answers 429 naming QUOTA_BYTES_PER_CLIENT when queued input would pass it, and 422 for a submission larger than the quota', async () => {
    const message = 'b'.repeat(3500);
    let status = 202;
    let sent = 0;
    let last: Awaited<ReturnType<typeof submit>> | undefined;
    while (status === 202 && sent < 5) {
      last = await submit(BOB, { message });
      status = last.status;
      sent += 1;
    }
    expect(status).toBe(429);
    expect(last?.body).toMatchObject({ quota: 'QUOTA_BYTES_PER_CLIENT', limit: 12000 });
    expect(last?.body.detail).toMatch(
      /bytes in Redis \(queued input, and results kept for RESULT_TTL_S\)/,
    );

    // A batch whose input alone is larger than the quota can never fit: 422, not 429.
    const portfolio = {
      method: 'parametric',
      positions: [{ asset: 'A', value: 1000 }],
      covariance: [[0.0004]],
    };
    const batch = await submit(
      ALICE,
      { portfolios: Array.from({ length: 100 }, () => portfolio) },
      'batch_var',
    );
    expect(batch.status).toBe(422);
    expect(batch.body.detail).toMatch(/QUOTA_(TASKS|BYTES)_PER_CLIENT/);
  });
});

describe('what a task keeps in Redis', () => {
  const stack = new TestStack();
  const redis = new Redis(REDIS_URL);

  beforeAll(async () => {
    await stack.startApi();
  });
  afterAll(async () => {
    await redis.quit();
    await stack.stop();
  });

  it('keeps a batch input once, in its children, and drops every input once the task ends', async () => {
    const portfolio = (value: number) => ({
      method: 'parametric',
      positions: [{ asset: 'A', value }],
      covariance: [[0.0004]],
    });
    const batch = await stack.submit('batch_var', {
      portfolios: [portfolio(1000), portfolio(2000)],
    });
    const parent = await storedData(redis, stack, 'medium', batch.task_id);
    expect(parent?.input).toBeNull();
    expect(parent?.meta.children).toBe(2);
    const childIds = await redis.zrange(
      `${stack.prefixOfTask(batch.task_id)}:medium:prioritized`,
      0,
      -1,
    );
    const childInputs = await Promise.all(
      childIds.map((id) => storedData(redis, stack, 'medium', id)),
    );
    // Each child keeps its portfolio, as JSON text.
    const childValues = childInputs.map(
      (c) =>
        (JSON.parse(String(c?.input)) as { positions: { value: number }[] }).positions[0].value,
    );
    expect(childValues.sort()).toEqual([1000, 2000]);

    await stack.startWorker();
    const done = await stack.until(batch.task_id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect((done.result as { portfolios: number }).portfolios).toBe(2);
    // The claim is settled: no unfinished task, the result and records kept until RESULT_TTL_S.
    const claim = await eventually(async () => {
      const held = await redis.hgetall(`${stack.prefixOfTask(batch.task_id)}:quota:addr:127.0.0.1`);
      return held['#tasks'] === '0' ? held : undefined;
    }, 'the batch claim to be settled');
    expect(claim[batch.task_id]).toMatch(/^0:\d+$/);
    expect(Number(claim['#bytes'])).toBeGreaterThanOrEqual(3 * 1024);
    for (const id of [batch.task_id, ...childIds]) {
      await eventually(
        async () =>
          (await storedData(redis, stack, 'medium', id))?.input === null ? true : undefined,
        `the input of ${id} to be dropped`,
      );
    }
    await stack.stopWorkers();
  });

  it('refuses an echo message larger than the result it would be kept as', async () => {
    const reply = await stack.request<Problem>('POST', '/api/v1/tasks', {
      type: 'echo',
      data: { message: 'm'.repeat(5000) },
    });
    expect(reply.status).toBe(422);
    expect(reply.body.detail).toMatch(/at most 4096 bytes/);
  });
});

describe('a task nobody takes expires', () => {
  const stack = new TestStack({ TASK_MAX_WAIT_S: '10' });

  beforeAll(async () => {
    await stack.startApi();
    // This worker serves high and medium only: nobody takes a task queued on low.
    await stack.startWorker({ WORKER_QUEUES: 'high,medium' });
  });
  afterAll(() => stack.stop());

  it('fails as TaskExpired after TASK_MAX_WAIT_S, and the client can read why', async () => {
    const task = await stack.submit('echo', { message: 'nobody serves low' }, { queue: 'low' });
    const ended = await stack.until(task.task_id, ['failed', 'completed'], 90_000);
    expect(ended.status).toBe('failed');
    expect(ended.error?.type).toBe('TaskExpired');
    expect(ended.error?.message).toMatch(/longer than TASK_MAX_WAIT_S \(10 s\)/);
    // It is gone from its queue, not merely marked.
    const counts = await stack.request<Record<string, Record<string, number>>>(
      'GET',
      '/api/v1/queues',
    );
    expect(JSON.stringify(counts.body)).toBeDefined();
    const redis = new Redis(REDIS_URL);
    try {
      expect(await redis.exists(`${stack.prefixOfTask(task.task_id)}:low:${task.task_id}`)).toBe(0);
    } finally {
      await redis.quit();
    }
  });
});

describe('fair rotation between clients', () => {
  const stack = new TestStack({
    API_KEYS: `alice:${ALICE},bob:${BOB}`,
    RATE_LIMIT_PER_MINUTE: '100000',
  });

  beforeAll(async () => {
    await stack.startApi();
  });
  afterAll(() => stack.stop());

  it("runs another client's task next, not after the first client's whole backlog", async () => {
    const backlog: string[] = [];
    for (let i = 0; i < 40; i++) {
      const reply = await stack.request<Task>(
        'POST',
        '/api/v1/tasks',
        { type: 'echo', data: { message: i, delay_ms: 20 } },
        as(ALICE),
      );
      expect(reply.status).toBe(202);
      backlog.push(reply.body.task_id);
    }
    const bob = await stack.request<Task>(
      'POST',
      '/api/v1/tasks',
      { type: 'echo', data: { message: 'bob' } },
      as(BOB),
    );
    expect(bob.status).toBe(202);
    await stack.startWorker({ WORKER_CONCURRENCY: '1' });
    const read = async (id: string, key: string) =>
      (await stack.request<Task>('GET', `/api/v1/tasks/${id}`, undefined, as(key))).body;
    const bobDone = await eventually(async () => {
      const task = await read(bob.body.task_id, BOB);
      return task.status === 'completed' ? task : undefined;
    }, "bob's task to complete");
    const aliceTasks = await Promise.all(backlog.map((id) => read(id, ALICE)));
    const before = aliceTasks.filter(
      (t) => t.started_at !== undefined && t.started_at < (bobDone.started_at ?? ''),
    ).length;
    // Strict FIFO would run all 40 first; the rotation puts bob behind alice's first task (on
    // his shard: the others take turns with it, SHARD_RUN tasks at a time at most).
    expect(before).toBeLessThanOrEqual(2 + SHARD_RUN * (stack.shards.count - 1));
    // The priority a client sees is the one it gave, not the rotation's.
    expect(bobDone.priority).toBe(50);
    await stack.stopWorkers();
  });
});

describe('quotas split over 3 shards', () => {
  const stack = new TestStack({
    API_KEYS: `alice:${ALICE}`,
    QUOTA_TASKS_PER_CLIENT: '6',
    RATE_LIMIT_PER_MINUTE: '100000',
    REDIS_SHARDS: '3',
  });
  const post = (headers: Record<string, string> = {}) =>
    stack.request<Task & Problem>(
      'POST',
      '/api/v1/tasks',
      { type: 'echo', data: {} },
      { ...as(ALICE), ...headers },
    );

  beforeAll(() => stack.startApi());
  afterAll(() => stack.stop());

  it('holds 6 tasks, 2 on each shard, moving a submission no key pins to a shard with room', async () => {
    const accepted: Task[] = [];
    for (let i = 0; i < 6; i++) {
      const reply = await post();
      expect(reply.status).toBe(202);
      accepted.push(reply.body);
    }
    const perShard = [0, 1, 2].map(
      (shard) => accepted.filter((t) => stack.shards.ofTask(t.task_id) === shard).length,
    );
    expect(perShard).toEqual([2, 2, 2]);

    const refused = await post();
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({
      quota: 'QUOTA_TASKS_PER_CLIENT',
      limit: 2,
      used: 2,
      shards: 3,
    });
    expect(refused.body.detail).toMatch(
      /QUOTA_TASKS_PER_CLIENT \(6\) allows 2 on each of the 3 shards \(REDIS_SHARDS\)/,
    );
    // A key pins its submission to its shard: refused there too, as that share is full.
    expect((await post({ 'Idempotency-Key': randomUUID() })).status).toBe(429);

    // A cancelled task gives its shard's place back, and the next submission finds it.
    const freed = accepted[0];
    expect(
      (await stack.request('DELETE', `/api/v1/tasks/${freed.task_id}`, undefined, as(ALICE)))
        .status,
    ).toBe(200);
    const again = await post();
    expect(again.status).toBe(202);
    expect(stack.shards.ofTask(again.body.task_id)).toBe(stack.shards.ofTask(freed.task_id));
  });
});
