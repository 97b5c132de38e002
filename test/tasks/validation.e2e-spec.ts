// Bad input gets a 4xx problem document that says what to change; never a 5xx.
import { TestStack } from '../support/stack';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  errors?: { pointer: string; detail: string }[];
}

const goodVar = {
  method: 'parametric',
  positions: [{ asset: 'A', value: 100 }],
  covariance: [[0.0004]],
};

describe('submission validation', () => {
  const stack = new TestStack({ BODY_LIMIT: '20kb' });

  beforeAll(() => stack.startApi());
  afterAll(() => stack.stop());

  async function expectProblem(
    body: unknown,
    status: number,
    detail: RegExp,
    pointer?: string,
    headers?: Record<string, string>,
  ): Promise<Problem> {
    const reply = await stack.request<Problem>('POST', '/api/v1/tasks', body, headers);
    expect(reply.status).toBe(status);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(reply.body).toMatchObject({ status, instance: '/api/v1/tasks', type: 'about:blank' });
    expect(reply.body.detail).toMatch(detail);
    expect(reply.text).not.toMatch(/\n\s+at |node_modules/);
    if (pointer) expect(reply.body.errors?.map((e) => e.pointer)).toContain(pointer);
    return reply.body;
  }

  it.each([
    [
      'type is not a string',
      { type: 42, data: {} },
      /\/type must be one of calculate_var, batch_var, echo/,
      '/type',
    ],
    ['type is unknown', { type: 'mine_bitcoin', data: {} }, /\/type must be one of/, '/type'],
    ['type is missing', { data: {} }, /\/type must be one of/, '/type'],
    ['data is an array', { type: 'echo', data: [] }, /\/data must be a JSON object/, '/data'],
    [
      'queue is unknown',
      { type: 'echo', data: {}, queue: 'urgent' },
      /\/queue must be one of high, medium, low/,
      '/queue',
    ],
    [
      'priority is a string',
      { type: 'echo', data: {}, priority: 'high' },
      /\/priority must be a whole number from 1 to 100/,
      '/priority',
    ],
    [
      'priority is out of range',
      { type: 'echo', data: {}, priority: 0 },
      /\/priority must be a whole number from 1 to 100/,
      '/priority',
    ],
    [
      'an unknown field',
      { type: 'echo', data: {}, colour: 'red' },
      /\/colour is not a known field; remove it/,
      '/colour',
    ],
    ['the body is an array', [1, 2], /must be a JSON object/, undefined],
  ])('400 when %s', async (_name, body, detail, pointer) => {
    await expectProblem(body, 400, detail, pointer);
  });

  it.each([['status'], ['task_id'], ['result'], ['opts'], ['attempts']])(
    '400 for the server-owned field %s',
    async (field) => {
      const problem = await expectProblem(
        { type: 'echo', data: {}, [field]: 1 },
        400,
        new RegExp(`${field} is set by the server; remove it`),
        `/${field}`,
      );
      expect(problem.title).toBe('Server-owned fields in the request');
    },
  );

  it('400 for a body that is not valid JSON', async () => {
    await expectProblem('{"type": "echo", ', 400, /not valid JSON/);
  });

  it('415 for a body that is not JSON at all', async () => {
    const reply = await stack.request<Problem>('POST', '/api/v1/tasks', undefined, {
      'content-type': 'text/plain',
    });
    expect(reply.status).toBe(415);
    expect(reply.body.detail).toMatch(/Content-Type: application\/json/);
  });

  it('413 for a body over BODY_LIMIT', async () => {
    const big = { type: 'echo', data: { message: 'x'.repeat(30_000) } };
    await expectProblem(big, 413, /larger than the 20480-byte limit \(BODY_LIMIT\)/);
  });

  it.each([
    [
      'a negative confidence',
      { ...goodVar, confidence: -1 },
      /must not be less than 0.9/,
      '/data/confidence',
    ],
    [
      'an unknown method',
      { ...goodVar, method: 'astrology' },
      /must be one of historical, parametric, monte_carlo/,
      '/data/method',
    ],
    [
      'a non-numeric value',
      { ...goodVar, positions: [{ asset: 'A', value: 'lots' }] },
      /must be a number/,
      '/data/positions/0/value',
    ],
    [
      'an unknown field in data',
      { ...goodVar, leverage: 3 },
      /is not a known field/,
      '/data/leverage',
    ],
    [
      'a non-PSD covariance',
      {
        ...goodVar,
        positions: [
          { asset: 'A', value: 1 },
          { asset: 'B', value: 1 },
        ],
        covariance: [
          [1, 2],
          [2, 1],
        ],
      },
      /not positive semi-definite/,
      '/data/covariance',
    ],
    [
      'a covariance of the wrong shape',
      {
        ...goodVar,
        covariance: [
          [1, 0],
          [0, 1],
        ],
      },
      /covariance must be 1×1/,
      '/data/covariance',
    ],
    [
      'too few observations',
      {
        method: 'historical',
        positions: [{ asset: 'A', value: 1 }],
        returns: { A: [0.01, 0.02] },
        confidence: 0.99,
      },
      /too few observations: 2 given, confidence 0.99 needs at least 100/,
      '/data/returns',
    ],
    [
      'returns together with covariance (which would be ignored)',
      {
        method: 'parametric',
        positions: [{ asset: 'A', value: 1 }],
        returns: { A: Array.from({ length: 100 }, (_, t) => ((t % 7) - 3) / 100) },
        covariance: [[0.0004]],
      },
      /"returns" and "covariance" conflict/,
      '/data/covariance',
    ],
    [
      'returns together with mean',
      {
        method: 'monte_carlo',
        positions: [{ asset: 'A', value: 1 }],
        returns: { A: Array.from({ length: 100 }, (_, t) => ((t % 7) - 3) / 100) },
        mean: [0.001],
      },
      /"returns" and "mean" conflict/,
      '/data/mean',
    ],
    [
      'a position that would overflow',
      { ...goodVar, positions: [{ asset: 'A', value: 1e300 }] },
      /magnitude at most 1e\+15; larger values would overflow/,
      '/data/positions/0/value',
    ],
    [
      'a covariance entry that would overflow',
      { ...goodVar, covariance: [[1e300]] },
      /magnitude at most 1e\+6/,
      '/data/covariance/0/0',
    ],
  ])('422 for calculate_var with %s', async (_name, data, detail, pointer) => {
    await expectProblem({ type: 'calculate_var', data }, 422, detail, pointer);
  });

  it('400 for a body nested deeper than 32 levels, not a crash', async () => {
    // Written by hand: JSON.stringify itself would overflow the stack on it.
    const body = `{"type":"echo","data":{"message":${'{"m":'.repeat(2000)}"deep"${'}'.repeat(2000)}}}`;
    await expectProblem(body, 400, /nests JSON more than 32 levels deep/);
  });

  it('422, not a 202 and a crash later, for an asset named like an Object built-in', async () => {
    const data = {
      method: 'historical',
      positions: [{ asset: '__proto__', value: 1 }],
      returns: {},
      confidence: 0.95,
    };
    await expectProblem(
      { type: 'calculate_var', data },
      422,
      /returns lack a series for "__proto__"/,
      '/data/returns',
    );
  });

  // Written by hand: an object literal's __proto__ sets its prototype, not a key. A 400 even
  // inside `data`: the envelope's own check, which reads all of the body, finds it first.
  it.each([
    ['the envelope', '{"type":"echo","data":{},"constructor":1}', 400, '/constructor'],
    ['a task input', '{"type":"echo","data":{"constructor":1}}', 400, '/data/constructor'],
    [
      'a free-form value',
      '{"type":"echo","data":{"message":{"toString":"x"}}}',
      400,
      '/data/message/toString',
    ],
    [
      'an array item',
      '{"type":"batch_var","data":{"portfolios":[{"__proto__":{"a":1}}]}}',
      400,
      '/data/portfolios/0/__proto__',
    ],
  ])(
    '%s with a key every object inherits: a 4xx naming it, not a 500 nor a dropped key',
    async (_where, body, status, pointer) => {
      await expectProblem(body, status, /a key every JavaScript object inherits/, pointer);
    },
  );

  it('422 pointing into the failing portfolio of a batch', async () => {
    const bad = { ...goodVar, covariance: [[-1]] };
    await expectProblem(
      { type: 'batch_var', data: { portfolios: [goodVar, bad] } },
      422,
      /\/data\/portfolios\/1\/covariance/,
      '/data/portfolios/1/covariance',
    );
  });

  it('422 for an echo fault when fault injection is off', async () => {
    await expectProblem(
      { type: 'echo', data: { fail: { kind: 'crash' } } },
      422,
      /fault injection is off; set TASK_FAULT_INJECTION=true/,
      '/data/fail',
    );
  });

  it('stores nothing for a rejected request: the same Idempotency-Key then works', async () => {
    const key = 'validation-then-valid';
    await expectProblem({ type: 'echo', data: [] }, 400, /must be a JSON object/, '/data', {
      'Idempotency-Key': key,
    });
    const ok = await stack.request(
      'POST',
      '/api/v1/tasks',
      { type: 'echo', data: {} },
      { 'Idempotency-Key': key },
    );
    expect(ok.status).toBe(202);
  });

  it('answers unknown routes with a 404 problem', async () => {
    const reply = await stack.request<Problem>('GET', '/api/v1/nothing-here');
    expect(reply.status).toBe(404);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});
