// TasksService in process, on the real Redis under a key prefix of its own: submitting,
// Idempotency-Key replay, conflict and take-over, ownership, and joining a task's flow.
import { HttpException } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config/load-config';
import { type FlowContext, flowContext } from '../../src/context/flow-context';
import { continueTrace } from '../../src/context/ids';
import { requestFingerprint } from '../../src/idempotency/idempotency-key';
import { IdempotencyRepository } from '../../src/idempotency/idempotency.repository';
import { TasksService } from '../../src/tasks/tasks.service';
import { deleteKeys, MemoryLog, startTasksModule } from '../support/in-process';
import { REDIS_URL } from '../support/services';

describe(TasksService.name, () => {
  const prefix = `tl-int-${randomUUID().slice(0, 8)}`;
  const log = new MemoryLog('threadline-api', 'info');
  const { lines } = log;
  let moduleRef: TestingModule;
  let tasks: TasksService;
  let records: IdempotencyRepository;

  beforeAll(async () => {
    const config = loadConfig({ REDIS_URL, REDIS_PREFIX: prefix, LOG_SHIPPING: 'false' });
    moduleRef = await startTasksModule(config, log);
    tasks = moduleRef.get(TasksService);
    records = moduleRef.get(IdempotencyRepository);
  });

  afterAll(async () => {
    await moduleRef.close();
    await deleteKeys(prefix);
  });

  /** A request's flow context, as the HTTP middleware (and the API key check) would open it. */
  const request = (correlation_id: string, owner?: string): FlowContext => ({
    request_id: randomUUID(),
    correlation_id,
    trace: continueTrace(undefined).trace,
    client: owner ? `key:${owner}` : 'addr:127.0.0.1',
    ...(owner ? { owner } : {}),
  });
  const within = <T>(context: FlowContext, fn: () => Promise<T>): Promise<T> =>
    flowContext.run(context, fn);

  /** The status of the problem a call was refused with. */
  const refusal = async (call: Promise<unknown>): Promise<HttpException> => {
    const error = await call.then(
      () => new Error('expected a refusal'),
      (e: unknown) => e,
    );
    if (!(error instanceof HttpException)) throw error;
    return error;
  };

  const echo = (message: string) => ({ type: 'echo', data: { message } });
  const json = (value: unknown) => JSON.stringify(value);
  const taskIdOf = (body: string) => (JSON.parse(body) as { task_id: string }).task_id;

  it('queues a task in the flow it was submitted in, and the request takes its id', async () => {
    const context = request('submit-flow');
    const outcome = await within(context, () => tasks.submit(json(echo('a')), undefined));
    const id = taskIdOf(outcome.body);
    expect(outcome).toMatchObject({
      status: 202,
      location: `/api/v1/tasks/${id}`,
      replayed: false,
    });
    expect(context.task_id).toBe(id);
    const queued = lines.find((l) => l['event.action'] === 'task-queued' && l.task_id === id);
    expect(queued).toMatchObject({
      request_id: context.request_id,
      correlation_id: 'submit-flow',
      'trace.id': context.trace?.trace_id,
      'task.type': 'echo',
    });
    const poll = await within(request('poller'), () => tasks.get(id));
    expect(poll).toMatchObject({ task_id: id, status: 'queued', correlation_id: 'submit-flow' });
  });

  it('replays the first answer for the same Idempotency-Key and body, and refuses another body', async () => {
    const key = randomUUID();
    const first = await within(request('first'), () => tasks.submit(json(echo('k')), key));
    const context = request('retry');
    // The same JSON with its keys in another order is the same body.
    const again = await within(context, () =>
      tasks.submit('{"data":{"message":"k"},"type":"echo"}', key),
    );
    expect(again).toEqual({ ...first, replayed: true });
    expect(context).toMatchObject({ task_id: taskIdOf(first.body), correlation_id: 'retry' });
    expect(lines).toContainEqual(
      expect.objectContaining({
        'event.action': 'task-replayed',
        request_id: context.request_id,
        task_id: taskIdOf(first.body),
      }),
    );
    const other = await refusal(
      within(request('other'), () => tasks.submit(json(echo('another')), key)),
    );
    expect([other.getStatus(), other.message]).toEqual([
      422,
      expect.stringContaining('different request body'),
    ]);
  });

  it('answers 409 with Retry-After while the first request with the key still runs', async () => {
    const key = randomUUID();
    const fingerprint = requestFingerprint('POST', '/api/v1/tasks', echo('busy'));
    await records.claim(key, fingerprint, randomUUID());
    const busy = await refusal(
      within(request('busy'), () => tasks.submit(json(echo('busy')), key)),
    );
    expect(busy.getStatus()).toBe(409);
    expect(busy).toMatchObject({ problem: { headers: { 'Retry-After': '1' } } });
  });

  it('takes over a claim whose request died: its task id, or the answer for the task it queued', async () => {
    const body = echo('taken over');
    const fingerprint = requestFingerprint('POST', '/api/v1/tasks', body);
    // Died before queueing: the retry queues the task under the claimed id.
    const key = randomUUID();
    const claim = await records.claim(key, fingerprint, randomUUID());
    await records.abandon(key, claim.record);
    const retry = await within(request('late'), () => tasks.submit(json(body), key));
    expect([taskIdOf(retry.body), retry.replayed]).toEqual([claim.record.task_id, false]);

    // Died after queueing: the retry answers for that task and joins its flow.
    const key2 = randomUUID();
    const first = await within(request('queued-flow'), () => tasks.submit(json(body), key2));
    await records.abandon(key2, {
      state: 'in-flight',
      fingerprint,
      task_id: taskIdOf(first.body),
      lease_until: 0,
    });
    const context = request('retrying');
    const answer = await within(context, () => tasks.submit(json(body), key2));
    expect(answer).toEqual({ ...first, replayed: true });
    expect(context).toMatchObject({
      task_id: taskIdOf(first.body),
      correlation_id: 'queued-flow',
    });
  });

  it("a poll joins the task's flow; a task of another API key does not exist for it", async () => {
    const submitted = await within(request('alice-flow', 'alice'), () =>
      tasks.submit(json(echo('mine')), 'shared-key'),
    );
    const id = taskIdOf(submitted.body);

    const own = request('alice-poll', 'alice');
    await expect(within(own, () => tasks.get(id))).resolves.toMatchObject({ task_id: id });
    expect(own).toMatchObject({ task_id: id, correlation_id: 'alice-flow' });

    const other = request('bob-poll', 'bob');
    expect((await refusal(within(other, () => tasks.get(id)))).getStatus()).toBe(404);
    expect((await refusal(within(other, () => tasks.cancel(id)))).getStatus()).toBe(404);
    expect([other.task_id, other.correlation_id]).toEqual([undefined, 'bob-poll']);
    // Bob's same Idempotency-Key is his own: a new task, not a replay of Alice's.
    const bobs = await within(request('bob-flow', 'bob'), () =>
      tasks.submit(json(echo('mine')), 'shared-key'),
    );
    expect([bobs.replayed, taskIdOf(bobs.body) === id]).toEqual([false, false]);

    // Still queued: Bob's cancel did nothing.
    await expect(within(own, () => tasks.get(id))).resolves.toMatchObject({ status: 'queued' });
  });

  it('cancels a queued task once, and answers the same for a second cancel', async () => {
    const submitted = await within(request('cancel-flow'), () =>
      tasks.submit(json(echo('cancel me')), undefined),
    );
    const id = taskIdOf(submitted.body);
    const context = request('canceller');
    await expect(within(context, () => tasks.cancel(id))).resolves.toMatchObject({
      status: 'cancelled',
    });
    expect(context).toMatchObject({ task_id: id, correlation_id: 'cancel-flow' });
    await expect(within(request('again'), () => tasks.cancel(id))).resolves.toMatchObject({
      status: 'cancelled',
    });
    const malformed = await refusal(within(request('bad'), () => tasks.get('not-a-uuid')));
    expect(malformed.getStatus()).toBe(400);
  });
});
