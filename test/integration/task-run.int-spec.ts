// The run of one task, in process: a real TaskRun (with the real task types, housekeeping and
// queue repository) runs jobs that a BullMQ worker took from the real Redis, and its log lines
// are read back as JSON. Checks the outcome BullMQ records and the flow context on every line.
import { Test, type TestingModule } from '@nestjs/testing';
import { Job, Worker } from 'bullmq';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { ConfigModule } from '../../src/config/config.module';
import { type FlowContext, flowContext } from '../../src/context/flow-context';
import { continueTrace } from '../../src/context/ids';
import { PINO } from '../../src/logging/logging.module';
import { QueuesModule } from '../../src/queues/queues.module';
import type { TaskQueue } from '../../src/config/queue-names';
import type { TaskEnvelope } from '../../src/queues/task';
import { TaskQueueRepository } from '../../src/queues/task-queue.repository';
import { QuotasModule } from '../../src/quotas/quotas.module';
import { RedisModule } from '../../src/redis/redis.module';
import { TaskTypesModule } from '../../src/tasks/task-types.module';
import { TaskHousekeeping } from '../../src/workers/task-housekeeping';
import { Metrics } from '../../src/metrics/metrics';
import { TaskRun } from '../../src/workers/task-run';
import { TaskTaker } from '../../src/workers/task-taker';
import { deleteKeys, inProcessConfig, type Line, MemoryLog } from '../support/in-process';
import { eventually, REDIS_URL } from '../support/services';

const config = inProcessConfig({
  TASK_FAULT_INJECTION: 'true',
  TASK_ATTEMPTS: '3',
  TASK_BACKOFF_MS: '50',
});
const QUEUE: TaskQueue = 'medium';

describe(TaskRun.name, () => {
  const log = new MemoryLog();
  let moduleRef: TestingModule;
  let taskRun: TaskRun;
  let queue: TaskQueueRepository;
  let worker: Worker<TaskEnvelope>;
  let taker: TaskTaker;
  let connection: Redis;
  let tokens = 0;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(config),
        RedisModule,
        QueuesModule,
        QuotasModule,
        TaskTypesModule,
      ],
      providers: [
        TaskRun,
        TaskHousekeeping,
        { provide: PINO, useValue: log.logger },
        { provide: Metrics, useValue: new Metrics(true, () => ({ enabled: false })) },
      ],
    }).compile();
    await moduleRef.init();
    taskRun = moduleRef.get(TaskRun);
    queue = moduleRef.get(TaskQueueRepository);
    // Takes jobs as the worker loop does (manual mode), so that TaskRun holds a real lock.
    connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    worker = new Worker<TaskEnvelope>(QUEUE, null, {
      connection,
      prefix: config.keyPrefix,
      autorun: false,
    });
    taker = new TaskTaker(connection, [worker], { ms: 30_000, workerName: 'test' });
  });

  afterAll(async () => {
    await worker.close();
    await connection.quit();
    await moduleRef.close();
    await deleteKeys(config.keyPrefix);
  });

  /** The submitting request's flow, as the HTTP entry would have opened it. */
  function submitter(): FlowContext & { trace: NonNullable<FlowContext['trace']> } {
    const { trace } = continueTrace(undefined);
    return { request_id: `req-${randomUUID()}`, correlation_id: `corr-${randomUUID()}`, trace };
  }

  /** Queues an echo task from inside `flow`, as the tasks service does. */
  async function submit(flow: FlowContext, data: object): Promise<string> {
    const id = randomUUID();
    await flowContext.run(flow, () =>
      queue.add({
        id,
        type: 'echo',
        queue: QUEUE,
        priority: 50,
        input: JSON.stringify(data),
        createdAt: Date.now(),
      }),
    );
    return id;
  }

  /** Takes the next job (waiting for a retry's backoff to pass), as one worker slot would. */
  async function take(id: string): Promise<{ job: Job<TaskEnvelope>; token: string }> {
    const token = `test:${tokens++}`;
    const job = await eventually(
      () => worker.getNextJob(token, { block: false }),
      `task ${id} to be taken`,
    );
    expect(job.id).toBe(id);
    return { job, token };
  }

  /** Runs a taken task as a worker slot does, its completion recorded by the taker. */
  async function run(job: Job<TaskEnvelope>, token: string): Promise<void> {
    await taskRun.run(job, token, (done, result) => taker.complete(done, token, result));
  }

  async function state(id: string): Promise<Job<TaskEnvelope>> {
    const job = await Job.fromId<TaskEnvelope>(worker, id);
    if (!job) throw new Error(`task ${id} is gone from Redis`);
    return job;
  }

  function line(taskId: string, action: string, attempt = 1): Line {
    const found = log
      .of(taskId)
      .find((l) => l['event.action'] === action && l['task.attempt'] === attempt);
    if (!found) throw new Error(`no ${action} line for attempt ${attempt} of task ${taskId}`);
    return found;
  }

  /** Every line of the task carries the submitter's flow and the task's own fields. */
  function expectFlow(lines: Line[], taskId: string, flow: ReturnType<typeof submitter>): void {
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) {
      expect(l).toMatchObject({
        request_id: flow.request_id,
        correlation_id: flow.correlation_id,
        task_id: taskId,
        'task.type': 'echo',
        'task.queue': QUEUE,
        'trace.id': flow.trace.trace_id,
        'service.name': 'threadline-worker',
      });
      // A new span of the submitter's trace, never the submitter's own.
      expect(l['span.id']).toMatch(/^[0-9a-f]{16}$/);
      expect(l['span.id']).not.toBe(flow.trace.span_id);
      // A worker line's request_id names the submitting request; it is no HTTP line.
      expect(l['http.request.id']).toBeUndefined();
    }
  }

  it('completes a task, recording its result and writing its lines in its flow', async () => {
    const flow = submitter();
    const id = await submit(flow, { message: { hello: 'world' }, delay_ms: 100 });
    const { job, token } = await take(id);

    await run(job, token);

    const done = await state(id);
    expect(await done.getState()).toBe('completed');
    expect(done.returnvalue).toEqual({ message: { hello: 'world' }, attempt: 1, delay_ms: 100 });
    // Ended for good: the input is dropped from Redis.
    expect(done.data.input).toBeNull();
    const lines = log.of(id);
    expect(lines.map((l) => l['event.action'])).toEqual([
      'task-started',
      ...Array.from({ length: 9 }, () => 'task-progress'),
      'task-completed',
    ]);
    expect(
      lines.filter((l) => l['event.action'] === 'task-progress').map((l) => l['task.progress']),
    ).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expectFlow(lines, id, flow);
    expect(line(id, 'task-completed')).toMatchObject({
      'log.level': 'info',
      'task.attempt': 1,
      'task.run_ms': expect.any(Number) as unknown,
      'event.duration': expect.any(Number) as unknown,
      'task.queue_wait_ms': expect.any(Number) as unknown,
    });
  });

  it('retries a task that throws a retryable error, in the same flow, then completes it', async () => {
    const flow = submitter();
    const id = await submit(flow, { message: 'again', fail: { kind: 'retryable', attempts: 1 } });
    const first = await take(id);

    await run(first.job, first.token);

    const retrying = await state(id);
    expect(['delayed', 'waiting']).toContain(await retrying.getState());
    expect(retrying.attemptsMade).toBe(1);
    expect(retrying.failedReason).toBe('injected retryable failure on attempt 1');
    expect(retrying.data.input).not.toBeNull();
    expect(line(id, 'task-retried')).toMatchObject({
      'log.level': 'warn',
      'task.attempt': 1,
      'error.type': 'InjectedFailureError',
      'error.message': 'injected retryable failure on attempt 1',
      'task.retry_in_ms': 50,
    });
    expect(log.of(id).some((l) => l['event.action'] === 'task-failed')).toBe(false);

    const second = await take(id);
    await run(second.job, second.token);

    const done = await state(id);
    expect(await done.getState()).toBe('completed');
    expect(done.returnvalue).toEqual({ message: 'again', attempt: 2, delay_ms: 0 });
    expect(line(id, 'task-completed', 2)['log.level']).toBe('info');
    const lines = log.of(id);
    expect(lines.map((l) => [l['event.action'], l['task.attempt']])).toEqual([
      ['task-started', 1],
      ['task-retried', 1],
      ['task-started', 2],
      ['task-completed', 2],
    ]);
    expectFlow(lines, id, flow);
    // Each attempt is a span of its own in the submitter's trace.
    expect(line(id, 'task-started', 2)['span.id']).not.toBe(line(id, 'task-started', 1)['span.id']);
  });

  it('fails a task for good on a permanent failure (UnrecoverableError), with attempts left', async () => {
    const flow = submitter();
    const id = await submit(flow, { fail: { kind: 'fatal' } });
    const { job, token } = await take(id);

    await run(job, token);

    const failed = await state(id);
    expect(await failed.getState()).toBe('failed');
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toBe('injected fatal failure on attempt 1');
    // The API reads the error's class from the first line of the kept stack.
    expect(failed.stacktrace?.at(-1)?.split('\n')[0]).toBe(
      'UnrecoverableError: injected fatal failure on attempt 1',
    );
    expect(failed.data.input).toBeNull();
    const failedLine = line(id, 'task-failed');
    expect(failedLine).toMatchObject({
      'log.level': 'error',
      'error.type': 'UnrecoverableError',
      'error.message': 'injected fatal failure on attempt 1',
    });
    expect(failedLine['task.retry_in_ms']).toBeUndefined();
    expect(log.of(id).map((l) => l['event.action'])).toEqual(['task-started', 'task-failed']);
    expectFlow(log.of(id), id, flow);
  });

  it('fails a task whose data the worker finds invalid for good, without running it', async () => {
    const flow = submitter();
    // The API refuses this at submit; a job queued some other way still must not loop.
    const id = await submit(flow, { delay_ms: -5 });
    const { job, token } = await take(id);

    await run(job, token);

    const failed = await state(id);
    expect(await failed.getState()).toBe('failed');
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/^invalid task data: .*\/data\/delay_ms/);
    expect(line(id, 'task-failed')).toMatchObject({
      'log.level': 'error',
      'error.type': 'UnrecoverableError',
    });
    expectFlow(log.of(id), id, flow);
  });

  it('fails a job that has no Threadline envelope, without a flow to restore', async () => {
    const id = randomUUID();
    const [medium] = queue.allQueues().filter((q) => q.name === QUEUE);
    await medium.add('echo', { not: 'an envelope' }, { jobId: id, attempts: 3 });
    const { job, token } = await take(id);

    await run(job, token);

    const failed = await state(id);
    expect(await failed.getState()).toBe('failed');
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toBe('the job has no Threadline envelope ({input, meta})');
    const failedLine = log.lines.find(
      (l) =>
        l['event.action'] === 'task-failed' &&
        typeof l.message === 'string' &&
        l.message.startsWith(`task ${id} failed for good`),
    );
    expect(failedLine).toMatchObject({ 'log.level': 'error', 'error.type': 'UnrecoverableError' });
    expect(failedLine?.task_id).toBeUndefined();
  });

  it('says a task stalled in its flow, with the attempt that lost its worker', async () => {
    const flow = submitter();
    const id = await submit(flow, { message: 'stall' });
    const first = await take(id);
    // Its worker stops answering: the stalled check puts it back in its queue.
    await first.job.moveToWait(first.token);

    await taskRun.stalled(worker, QUEUE, id);

    expect(line(id, 'task-stalled', 1)).toMatchObject({ 'log.level': 'warn' });
    // Another worker has already taken the next attempt when the line is written.
    const second = await take(id);
    expect(second.job.attemptsStarted).toBe(2);
    await taskRun.stalled(worker, QUEUE, id);
    expect(log.of(id).filter((l) => l['event.action'] === 'task-stalled')).toHaveLength(2);
    expect(
      log.of(id).filter((l) => l['event.action'] === 'task-stalled' && l['task.attempt'] === 1),
    ).toHaveLength(2);
    expectFlow(log.of(id), id, flow);
    await run(second.job, second.token);
    expect(await (await state(id)).getState()).toBe('completed');
  });
});
