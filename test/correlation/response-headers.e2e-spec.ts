// The IDs a response carries, on every path of the task routes: X-Request-ID and
// X-Correlation-ID always, X-Task-ID once the request is about a task, and a poll or cancel
// answers with the task's own X-Correlation-ID (it joins the task's flow), errors included.
import { randomUUID } from 'node:crypto';
import { TestStack, type Task } from '../support/stack';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The three flow headers of a reply (null when absent). */
function ids(headers: Headers): Record<string, string | null> {
  return {
    request: headers.get('x-request-id'),
    correlation: headers.get('x-correlation-id'),
    task: headers.get('x-task-id'),
  };
}

describe('response headers of the task routes', () => {
  const stack = new TestStack({ LOG_LEVEL: 'info' });
  const echo = { type: 'echo', data: { message: 'headers' } };

  beforeAll(async () => {
    await stack.startApi();
  });
  afterAll(() => stack.stop());

  const as = (flow: string, extra: Record<string, string> = {}) => ({
    'X-Request-ID': `${flow}-request`,
    'X-Correlation-ID': flow,
    ...extra,
  });

  it('a submit answers with its own IDs and the new task id', async () => {
    const reply = await stack.request<Task>('POST', '/api/v1/tasks', echo, as('submit-1'));
    expect(reply.status).toBe(202);
    expect(ids(reply.headers)).toEqual({
      request: 'submit-1-request',
      correlation: 'submit-1',
      task: reply.body.task_id,
    });
    expect(reply.headers.get('location')).toBe(`/api/v1/tasks/${reply.body.task_id}`);
    expect(reply.headers.get('idempotent-replayed')).toBeNull();
  });

  it('answers without an ETag: nothing revalidates an answer, and hashing each body costs', async () => {
    const submitted = await stack.request<Task>('POST', '/api/v1/tasks', echo);
    const poll = await stack.request('GET', `/api/v1/tasks/${submitted.body.task_id}`);
    const problem = await stack.request('GET', '/api/v1/tasks/not-a-uuid');
    expect([submitted.status, poll.status, problem.status]).toEqual([202, 200, 400]);
    expect([submitted, poll, problem].map((reply) => reply.headers.get('etag'))).toEqual([
      null,
      null,
      null,
    ]);
  });

  it('a submit without IDs answers with a generated request ID, which is also the correlation ID', async () => {
    const reply = await stack.request<Task>('POST', '/api/v1/tasks', echo);
    expect(reply.status).toBe(202);
    const { request, correlation, task } = ids(reply.headers);
    expect(request).toMatch(UUID);
    expect(correlation).toBe(request);
    expect(task).toBe(reply.body.task_id);
  });

  it('a replayed submit answers with the first task id and its own correlation ID', async () => {
    const key = randomUUID();
    const first = await stack.request<Task>(
      'POST',
      '/api/v1/tasks',
      echo,
      as('replay-1', { 'Idempotency-Key': key }),
    );
    const again = await stack.request<Task>(
      'POST',
      '/api/v1/tasks',
      echo,
      as('replay-2', { 'Idempotency-Key': key }),
    );
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(ids(again.headers)).toEqual({
      request: 'replay-2-request',
      correlation: 'replay-2',
      task: first.body.task_id,
    });
  });

  it('a refused submit (422, 400) names no task', async () => {
    const key = randomUUID();
    await stack.request('POST', '/api/v1/tasks', echo, { 'Idempotency-Key': key });
    const reused = await stack.request(
      'POST',
      '/api/v1/tasks',
      { type: 'echo', data: { message: 'another body' } },
      as('reused-1', { 'Idempotency-Key': key }),
    );
    expect(reused.status).toBe(422);
    expect(ids(reused.headers)).toEqual({
      request: 'reused-1-request',
      correlation: 'reused-1',
      task: null,
    });
    const unknown = await stack.request(
      'POST',
      '/api/v1/tasks',
      { type: 'nope', data: {} },
      as('bad-1'),
    );
    expect(unknown.status).toBe(400);
    expect(ids(unknown.headers)).toEqual({
      request: 'bad-1-request',
      correlation: 'bad-1',
      task: null,
    });
  });

  it("a poll joins the task's flow: the task's correlation ID and its id", async () => {
    const submitted = await stack.request<Task>('POST', '/api/v1/tasks', echo, as('poll-flow'));
    const id = submitted.body.task_id;
    const poll = await stack.request('GET', `/api/v1/tasks/${id}`, undefined, as('poller'));
    expect(poll.status).toBe(200);
    expect(ids(poll.headers)).toEqual({
      request: 'poller-request',
      correlation: 'poll-flow',
      task: id,
    });
  });

  it('a poll of no task (404) or of a malformed id (400) keeps its own IDs and names no task', async () => {
    const missing = await stack.request(
      'GET',
      `/api/v1/tasks/${randomUUID()}`,
      undefined,
      as('missing'),
    );
    expect(missing.status).toBe(404);
    expect(ids(missing.headers)).toEqual({
      request: 'missing-request',
      correlation: 'missing',
      task: null,
    });
    const malformed = await stack.request('GET', '/api/v1/tasks/not-a-uuid', undefined, as('bad'));
    expect(malformed.status).toBe(400);
    expect(ids(malformed.headers)).toEqual({
      request: 'bad-request',
      correlation: 'bad',
      task: null,
    });
  });

  it("a cancel joins the task's flow, the first time and the second", async () => {
    const submitted = await stack.request<Task>('POST', '/api/v1/tasks', echo, as('cancel-flow'));
    const id = submitted.body.task_id;
    const expected = { correlation: 'cancel-flow', task: id };
    const first = await stack.request('DELETE', `/api/v1/tasks/${id}`, undefined, as('c1'));
    expect(first.status).toBe(200);
    expect(ids(first.headers)).toEqual({ request: 'c1-request', ...expected });
    const again = await stack.request('DELETE', `/api/v1/tasks/${id}`, undefined, as('c2'));
    expect(again.status).toBe(200);
    expect(ids(again.headers)).toEqual({ request: 'c2-request', ...expected });
    const missing = await stack.request('DELETE', `/api/v1/tasks/${randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-task-id')).toBeNull();
  });

  it("a refused cancel (409, the task has finished) still joins the task's flow", async () => {
    const submitted = await stack.request<Task>('POST', '/api/v1/tasks', echo, as('done-flow'));
    const id = submitted.body.task_id;
    await stack.startWorker();
    await stack.until(id, ['completed']);
    const refused = await stack.request('DELETE', `/api/v1/tasks/${id}`, undefined, as('late'));
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(ids(refused.headers)).toEqual({
      request: 'late-request',
      correlation: 'done-flow',
      task: id,
    });
  });
});

describe('response headers with API keys', () => {
  const ALICE = 'alice-key-0123456789abcdef';
  const BOB = 'bob-key-0123456789abcdefgh';
  const stack = new TestStack({ API_KEYS: `alice:${ALICE},bob:${BOB}` });
  const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

  beforeAll(async () => {
    await stack.startApi();
  });
  afterAll(() => stack.stop());

  it("another key's poll of a task is a 404 that names no task and keeps its own flow", async () => {
    const submitted = await stack.request<Task>(
      'POST',
      '/api/v1/tasks',
      { type: 'echo', data: { message: 'mine' } },
      { ...bearer(ALICE), 'X-Correlation-ID': 'alice-flow' },
    );
    expect(submitted.status).toBe(202);
    const id = submitted.body.task_id;
    const own = await stack.request('GET', `/api/v1/tasks/${id}`, undefined, {
      ...bearer(ALICE),
      'X-Correlation-ID': 'alice-poll',
    });
    expect(own.status).toBe(200);
    expect(ids(own.headers)).toMatchObject({ correlation: 'alice-flow', task: id });
    const other = await stack.request('GET', `/api/v1/tasks/${id}`, undefined, {
      ...bearer(BOB),
      'X-Correlation-ID': 'bob-poll',
    });
    expect(other.status).toBe(404);
    expect(ids(other.headers)).toMatchObject({ correlation: 'bob-poll', task: null });
    const unauthenticated = await stack.request('GET', `/api/v1/tasks/${id}`, undefined, {
      'X-Request-ID': 'anon-1',
    });
    expect(unauthenticated.status).toBe(401);
    expect(ids(unauthenticated.headers)).toEqual({
      request: 'anon-1',
      correlation: 'anon-1',
      task: null,
    });
  });
});
