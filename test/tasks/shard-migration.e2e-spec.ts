// Moving a deployment from one shard to three (docs/scaling.md#moving-to-shards): the tasks
// queued under the unsharded layout are found, cancelled and run by the sharded processes
// (REDIS_SHARDS_PREVIOUS=1), while every new task goes to a shard.
import { TestStack, type Task } from '../support/stack';

describe('moving from REDIS_SHARDS=1 to 3', () => {
  // A retry's backoff of 200 ms: the drained layout's retries must be run too.
  const stack = new TestStack({
    REDIS_SHARDS: '1',
    TASK_FAULT_INJECTION: 'true',
    TASK_BACKOFF_MS: '200',
  });
  const sharded = { REDIS_SHARDS: '3', REDIS_SHARDS_PREVIOUS: '1' };

  afterAll(() => stack.stop());

  it('drains, finds and cancels the tasks queued before, and shards the new ones', async () => {
    await stack.startApi();
    const before: Task[] = await Promise.all(
      Array.from({ length: 30 }, (_, i) => stack.submit('echo', { message: `before ${i}` })),
    );
    const toCancel = await stack.submit('echo', { message: 'cancel me' }, { queue: 'low' });
    // Fails its first run, on the sharded worker: its retry waits in the old layout's queue.
    const retried = await stack.submit(
      'echo',
      { message: 'again', fail: { kind: 'retryable', attempts: 1 } },
      { queue: 'low' },
    );
    await stack.stopApis();

    await stack.startApi(sharded);
    // Found from the sharded API, before any worker runs.
    expect((await stack.task(before[0].task_id)).status).toBe('queued');
    const cancelled = await stack.request<Task>('DELETE', `/api/v1/tasks/${toCancel.task_id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');

    const after: Task[] = await Promise.all(
      Array.from({ length: 30 }, (_, i) => stack.submit('echo', { message: `after ${i}` })),
    );
    await stack.startWorker(sharded);
    for (const task of [...before, ...after]) {
      expect((await stack.until(task.task_id, ['completed'])).status).toBe('completed');
    }
    expect((await stack.task(toCancel.task_id)).status).toBe('cancelled');
    // A quiet layout: only the look at due retries takes it (nothing new arrives there).
    const second = await stack.until(retried.task_id, ['completed', 'failed']);
    expect(second).toMatchObject({ status: 'completed', attempts: 2 });

    // The new tasks are on the shards; the old ones stay where they were until they expire.
    const legacy = stack.keyPrefix;
    const shardsOfNew = new Set(after.map((t) => stack.shardsOf(sharded).prefixOfTask(t.task_id)));
    expect([...shardsOfNew].sort()).toEqual([...stack.shardsOf(sharded).prefixes].sort());
    const queues = await stack.request<{
      shards: { prefix: string; shard?: number; queues: Record<string, { completed: number }> }[];
    }>('GET', '/api/v1/queues');
    const old = queues.body.shards.find((s) => s.prefix === legacy);
    expect(old).toMatchObject({ queues: { medium: { completed: 30 } } });
    expect(old?.shard).toBeUndefined();
    expect(queues.body.shards.filter((s) => s.shard !== undefined)).toHaveLength(3);
  }, 180_000);
});
