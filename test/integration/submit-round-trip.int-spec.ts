// One submission, one Redis round trip: the Idempotency-Key's claim, the quota claim, the job
// and the key's record in one script (SubmitScript), and REDIS_WAIT_REPLICAS's WAIT in the same
// pipeline. Counted as the commands the API's own Redis client sends, on the real Redis.
import { HttpException } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../../src/config/app-config';
import { type FlowContext, flowContext } from '../../src/context/flow-context';
import { continueTrace } from '../../src/context/ids';
import { IdempotencyRepository } from '../../src/idempotency/idempotency.repository';
import { TaskQueueRepository } from '../../src/queues/task-queue.repository';
import { fairPriority } from '../../src/queues/fair-priority';
import { QuotaRepository } from '../../src/quotas/quota.repository';
import type { RedisClient } from '../../src/redis/redis-client';
import { REDIS } from '../../src/redis/redis.constants';
import { RedisUnavailableError } from '../../src/redis/redis-unavailable.error';
import { TasksService } from '../../src/tasks/tasks.service';
import { deleteKeys, inProcessConfig, MemoryLog, startTasksModule } from '../support/in-process';

/** TasksService on the real Redis with `config`; `sent` lists each command its client sends. */
async function start(config: AppConfig) {
  const log = new MemoryLog('threadline-api', 'info');
  const moduleRef = await startTasksModule(config, log);
  const redis = moduleRef.get<RedisClient>(REDIS) as Redis;
  // Observed, not replaced: every command still goes to Redis.
  const spy = jest.spyOn(redis, 'sendCommand');
  return {
    moduleRef,
    tasks: moduleRef.get(TasksService),
    /** The commands sent while `fn` ran. */
    async sent<T>(fn: () => Promise<T>): Promise<{ result: T; commands: string[] }> {
      spy.mockClear();
      const result = await fn();
      return { result, commands: spy.mock.calls.map(([command]) => command.name) };
    },
  };
}

const request = (client: string): FlowContext => ({
  request_id: randomUUID(),
  correlation_id: randomUUID(),
  trace: continueTrace(undefined).trace,
  client,
});
const echo = (message: string) => JSON.stringify({ type: 'echo', data: { message } });
const taskIdOf = (body: string) => (JSON.parse(body) as { task_id: string }).task_id;

describe('a submission in one Redis round trip', () => {
  const config = inProcessConfig({ QUOTA_TASKS_PER_CLIENT: '3' });
  let stack: Awaited<ReturnType<typeof start>>;

  beforeAll(async () => {
    stack = await start(config);
    // BullMQ writes each queue's metadata once, when its connection is first ready.
    await flowContext.run(request('addr:warm-up'), () => stack.tasks.submit(echo('0'), undefined));
  });
  afterAll(async () => {
    await stack.moduleRef.close();
    await deleteKeys(config.keyPrefix);
  });

  it('sends one command to queue a task, with an Idempotency-Key or without, and one to replay it', async () => {
    const client = `addr:one-trip-${randomUUID().slice(0, 8)}`;
    const within = <T>(fn: () => Promise<T>) => flowContext.run(request(client), fn);
    const plain = await stack.sent(() => within(() => stack.tasks.submit(echo('a'), undefined)));
    expect(plain.commands).toEqual(['evalsha']);

    const key = randomUUID();
    const keyed = await stack.sent(() => within(() => stack.tasks.submit(echo('b'), key)));
    expect(keyed.commands).toEqual(['evalsha']);
    const replay = await stack.sent(() => within(() => stack.tasks.submit(echo('b'), key)));
    expect(replay.commands).toEqual(['evalsha']);
    expect(replay.result).toEqual({ ...keyed.result, replayed: true });

    // What the one script queued is what BullMQ's add would have: the job, its options, and
    // its priority from the client's place in the fair rotation (one task held before it).
    const task = await stack.moduleRef.get(TaskQueueRepository).find(taskIdOf(keyed.result.body));
    expect(task).toMatchObject({ type: 'echo', queue: 'medium', priority: 50, status: 'queued' });
    const job = (await stack.moduleRef
      .get(TaskQueueRepository)
      .allQueues()[1]
      .getJob(taskIdOf(keyed.result.body)))!;
    expect(job.opts).toMatchObject({
      priority: fairPriority(50, 1),
      attempts: config.TASK_ATTEMPTS,
      backoff: { type: 'exponential', delay: config.TASK_BACKOFF_MS },
      removeOnComplete: { age: config.RESULT_TTL_S },
    });
    expect(job.data).toMatchObject({ input: '{"message":"b"}', meta: { client, priority: 50 } });
  });

  it('refuses a client over its quota in the same one command, queueing nothing', async () => {
    const client = `addr:full-${randomUUID().slice(0, 8)}`;
    const within = <T>(fn: () => Promise<T>) => flowContext.run(request(client), fn);
    for (const message of ['1', '2', '3'])
      await within(() => stack.tasks.submit(echo(message), undefined));
    const refused = await stack.sent(() =>
      within(() => stack.tasks.submit(echo('4'), randomUUID())).catch((error: unknown) => error),
    );
    expect(refused.result).toBeInstanceOf(HttpException);
    expect((refused.result as HttpException).getStatus()).toBe(429);
    // The script, then the key's record given up (already so: a retry takes it over).
    expect(refused.commands).toEqual(['evalsha', 'set']);
    expect((await stack.moduleRef.get(QuotaRepository).usage(client)).tasks).toBe(3);
  });
});

describe('REDIS_WAIT_REPLICAS in the same round trip', () => {
  // One Redis without replicas: no write is ever confirmed.
  const config = inProcessConfig({ REDIS_WAIT_REPLICAS: '1', REDIS_TIMEOUT_MS: '200' });
  let stack: Awaited<ReturnType<typeof start>>;

  beforeAll(async () => {
    stack = await start(config);
  });
  afterAll(async () => {
    await stack.moduleRef.close();
    await deleteKeys(config.keyPrefix);
  });

  it('sends WAIT with the script, answers 503 when no replica confirms, and gives back the claims', async () => {
    const client = `addr:unreplicated-${randomUUID().slice(0, 8)}`;
    const key = randomUUID();
    const attempt = await stack.sent(() =>
      flowContext
        .run(request(client), () => stack.tasks.submit(echo('w'), key))
        .catch((error: unknown) => error),
    );
    expect(attempt.result).toBeInstanceOf(RedisUnavailableError);
    expect((attempt.result as Error).message).toMatch(
      /0 of 1 Redis replica\(s\).*REDIS_WAIT_REPLICAS/,
    );
    expect(attempt.commands.slice(0, 2)).toEqual(['evalsha', 'wait']);
    // As when the task was queued and then not confirmed: the quota is given back, and the key
    // is left for a retry to take over with the same task id.
    expect((await stack.moduleRef.get(QuotaRepository).usage(client)).tasks).toBe(0);
    const records = stack.moduleRef.get(IdempotencyRepository);
    const claim = await records.claim(key, 'another body', randomUUID());
    expect(claim).toMatchObject({
      kind: 'existing',
      record: { state: 'in-flight', lease_until: 0 },
    });
  });
});
