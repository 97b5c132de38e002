// The queue repository, in process: the real QueuesModule (BullMQ queues and flow producer on
// the real Redis) adds tasks, reads them back, ends unstarted ones and drops inputs.
import { Test, type TestingModule } from '@nestjs/testing';
import { Job, Worker } from 'bullmq';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { ConfigModule } from '../../src/config/config.module';
import { type FlowContext, flowContext } from '../../src/context/flow-context';
import { continueTrace, traceparentOf } from '../../src/context/ids';
import { fairPriority } from '../../src/queues/fair-priority';
import type { TaskQueue } from '../../src/config/queue-names';
import { QueuesModule } from '../../src/queues/queues.module';
import type { NewTask, TaskEnvelope } from '../../src/queues/task';
import { TaskQueueRepository } from '../../src/queues/task-queue.repository';
import { RedisModule } from '../../src/redis/redis.module';
import { deleteKeys, inProcessConfig } from '../support/in-process';
import { REDIS_URL } from '../support/services';

const config = inProcessConfig({ TASK_ATTEMPTS: '4', RESULT_TTL_S: '600' });

describe(TaskQueueRepository.name, () => {
  let moduleRef: TestingModule;
  let repository: TaskQueueRepository;
  let redis: Redis;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(config), RedisModule, QueuesModule],
    }).compile();
    await moduleRef.init();
    repository = moduleRef.get(TaskQueueRepository);
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  });

  afterAll(async () => {
    await moduleRef.close();
    await redis.quit();
    await deleteKeys(config.keyPrefix);
  });

  function newTask(fields: Partial<NewTask> = {}): NewTask {
    return {
      id: randomUUID(),
      type: 'echo',
      queue: 'low',
      priority: 7,
      input: JSON.stringify({ message: 'hi' }),
      createdAt: Date.parse('2026-01-02T03:04:05.678Z'),
      ...fields,
    };
  }

  /** The BullMQ job behind a task, read straight from Redis. */
  async function jobOf(id: string, queue: TaskQueue = 'low'): Promise<Job<TaskEnvelope>> {
    const [bull] = repository.allQueues().filter((q) => q.name === queue);
    const job = await Job.fromId<TaskEnvelope>(bull, id);
    if (!job) throw new Error(`no job ${id} in ${queue}`);
    return job;
  }

  function cancelledKey(id: string): string {
    return `${config.keyPrefix}:cancelled:${id}`;
  }

  it('adds a task whose envelope carries the submitting flow, and reads it back', async () => {
    const { trace } = continueTrace(undefined);
    const flow: FlowContext = {
      request_id: `req-${randomUUID()}`,
      correlation_id: `corr-${randomUUID()}`,
      trace,
      owner: 'team-a',
    };
    const task = newTask({ rank: 3, client: 'key:team-a' });

    await flowContext.run(flow, () => repository.add(task));

    const job = await jobOf(task.id);
    expect(job.name).toBe('echo');
    expect(job.data).toEqual({
      input: task.input,
      meta: {
        request_id: flow.request_id,
        correlation_id: flow.correlation_id,
        traceparent: traceparentOf(trace),
        owner: 'team-a',
        client: 'key:team-a',
        priority: 7,
        submitted_at: '2026-01-02T03:04:05.678Z',
      },
    });
    expect(job.opts).toMatchObject({
      priority: fairPriority(7, 3),
      attempts: 4,
      backoff: { type: 'exponential', delay: config.TASK_BACKOFF_MS },
    });
    expect(await repository.find(task.id)).toEqual({
      id: task.id,
      type: 'echo',
      queue: 'low',
      priority: 7,
      status: 'queued',
      progress: 0,
      attempts: 0,
      max_attempts: 4,
      created_at: '2026-01-02T03:04:05.678Z',
      correlation_id: flow.correlation_id,
      owner: 'team-a',
      client: 'key:team-a',
    });
    expect((await repository.counts()).queues.low).toMatchObject({ prioritized: 1 });
  });

  it('adds a task outside any flow with no flow IDs in its envelope', async () => {
    const task = newTask();

    await repository.add(task);

    const { meta } = (await jobOf(task.id)).data;
    expect(meta).toEqual({ priority: 7, submitted_at: '2026-01-02T03:04:05.678Z' });
    const read = await repository.find(task.id);
    expect(read?.correlation_id).toBeUndefined();
  });

  it('answers undefined for a task it does not hold', async () => {
    expect(await repository.find(randomUUID())).toBeUndefined();
  });

  it('adds a batch as a flow: the parent waits for its children, each child knows its parent', async () => {
    const parent = newTask({ type: 'batch_var', input: null, children: 2, client: 'addr:1' });
    const children = [0, 1].map((index) => newTask({ index }));

    await flowContext.run({ correlation_id: 'corr-batch' }, () =>
      repository.addFlow(parent, children),
    );

    expect(await (await jobOf(parent.id)).getState()).toBe('waiting-children');
    expect(await repository.find(parent.id)).toMatchObject({
      status: 'queued',
      correlation_id: 'corr-batch',
    });
    for (const [index, child] of children.entries()) {
      expect(await repository.find(child.id)).toMatchObject({
        status: 'queued',
        parent_id: parent.id,
        correlation_id: 'corr-batch',
      });
      expect((await jobOf(child.id)).data.meta).toMatchObject({ index });
    }
    // A child's result belongs to its parent: it cannot be ended alone.
    expect(await repository.cancel(children[0].id)).toBe('child-of-flow');
    expect(await repository.find(children[0].id)).toMatchObject({ status: 'queued' });

    // Ending the parent ends its children with it.
    expect(await repository.cancel(parent.id)).toBe('cancelled');
    expect(await repository.find(parent.id)).toMatchObject({ status: 'cancelled' });
    for (const child of children) expect(await repository.find(child.id)).toBeUndefined();
  });

  it('cancels an unstarted task, remembering it as cancelled for RESULT_TTL_S', async () => {
    const task = newTask({ client: 'addr:2' });
    await repository.add(task);

    expect(await repository.cancel(task.id)).toBe('cancelled');

    const read = await repository.find(task.id);
    expect(read).toMatchObject({ id: task.id, status: 'cancelled', client: 'addr:2' });
    expect(Date.parse(read?.finished_at ?? '')).toBeGreaterThan(task.createdAt);
    const ttl = await redis.ttl(cancelledKey(task.id));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(600);
    // The job itself is gone from BullMQ.
    const [low] = repository.allQueues().filter((q) => q.name === 'low');
    expect(await Job.fromId(low, task.id)).toBeUndefined();
    expect(await repository.cancel(task.id)).toBe('not-found');
  });

  it('expires an unstarted task as a failure with the given error', async () => {
    const task = newTask();
    await repository.add(task);
    const error = { type: 'TaskExpired', message: 'waited too long' };

    expect(await repository.expire(task.id, error)).toBe('cancelled');

    expect(await repository.find(task.id)).toMatchObject({
      id: task.id,
      status: 'failed',
      error,
      attempts: 0,
    });
    expect(await repository.expire(task.id, error)).toBe('not-found');
    expect(await repository.expire(randomUUID(), error)).toBe('not-found');
  });

  it('leaves a task that a worker has started: it is already started', async () => {
    const task = newTask({ queue: 'high' });
    await repository.add(task);
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const worker = new Worker<TaskEnvelope>('high', null, {
      connection,
      prefix: config.keyPrefix,
      autorun: false,
    });
    try {
      const job = await worker.getNextJob('test-token', { block: false });
      expect(job?.id).toBe(task.id);

      expect(await repository.expire(task.id, { type: 'TaskExpired', message: 'late' })).toBe(
        'already-started',
      );
      expect(await repository.cancel(task.id)).toBe('already-started');

      expect(await repository.find(task.id)).toMatchObject({ status: 'active', attempts: 1 });
      expect(await redis.exists(cancelledKey(task.id))).toBe(0);
    } finally {
      await worker.close();
      await connection.quit();
    }
  });

  it('drops the input of a task, keeping the rest of it', async () => {
    const task = newTask({ client: 'addr:3' });
    await repository.add(task);
    const before = await repository.find(task.id);

    await repository.dropInput(task.id);

    const job = await jobOf(task.id);
    expect(job.data.input).toBeNull();
    expect(job.data.meta).toMatchObject({ client: 'addr:3', priority: 7 });
    expect(await repository.find(task.id)).toEqual(before);
    // Nothing to drop: neither an unknown task nor one already dropped is an error.
    await expect(repository.dropInput(task.id)).resolves.toBeUndefined();
    await expect(repository.dropInput(randomUUID())).resolves.toBeUndefined();
  });
});
