// Heavy tasks are bounded at submit by their declared cost, and the heaviest one allowed runs on
// a worker thread: the API stays responsive, and the worker keeps renewing its locks and running
// its other tasks meanwhile.
import { eventually } from '../support/services';
import { TestStack, type Task } from '../support/stack';

interface CostProblem {
  status: number;
  title: string;
  detail: string;
  cost?: { amount: number; unit: string; limit: number; setting: string };
  errors?: { pointer: string; detail: string }[];
}

const ASSETS = 200;
const SIMULATIONS = 100_000;
/** The largest Monte Carlo this stack allows: ASSETS³ + SIMULATIONS × ASSETS². */
const LARGEST = ASSETS ** 3 + SIMULATIONS * ASSETS ** 2;

const positions = (n: number): { asset: string; value: number }[] =>
  Array.from({ length: n }, (_, i) => ({ asset: `A${i}`, value: 10_000 + 100 * i }));

/** A realistic full-rank covariance: daily volatilities of 1–3 %, correlation 0.5. */
function covariance(n: number): number[][] {
  const vol = (i: number): number => 0.01 + (0.02 * i) / n;
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) =>
      Number((vol(i) * vol(j) * (i === j ? 1 : 0.5)).toPrecision(6)),
    ),
  );
}

const ones = (n: number): number[][] =>
  Array.from({ length: n }, () => new Array<number>(n).fill(1));

const diagonal = (n: number): number[][] =>
  Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1e-4 : 0)));

describe('CPU budget of tasks', () => {
  const stack = new TestStack({
    TASK_VAR_MAX_OPERATIONS: String(LARGEST),
    TASK_BATCH_MAX_OPERATIONS: String(1e8),
    TASK_ECHO_MAX_DELAY_MS: '2000',
  });

  beforeAll(async () => {
    await stack.startApi();
    // A short lock: a computation on the worker's event loop would outlast it between renewals.
    await stack.startWorker({
      WORKER_QUEUES: 'high,medium',
      WORKER_CONCURRENCY: '2',
      WORKER_LOCK_MS: '1000',
      WORKER_STALLED_INTERVAL_MS: '500',
    });
    // A worker of its own for the time-budget test, with a budget no real VaR fits in.
    await stack.startWorker({ WORKER_QUEUES: 'low', TASK_THREAD_TIMEOUT_MS: '200' });
  });
  afterAll(() => stack.stop());

  async function refused(body: unknown): Promise<CostProblem> {
    const reply = await stack.request<CostProblem>('POST', '/api/v1/tasks', body);
    expect(reply.status).toBe(422);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    return reply.body;
  }

  it('runs the largest Monte Carlo allowed on a thread: the worker’s other task completes meanwhile, its lock holds and /health answers', async () => {
    const big = await stack.submit('calculate_var', {
      method: 'monte_carlo',
      positions: positions(ASSETS),
      covariance: covariance(ASSETS),
      simulations: SIMULATIONS,
      confidence: 0.99,
    });
    await eventually(async () => {
      const task = await stack.task(big.task_id);
      return task.status === 'active' && task.progress > 0 ? task : undefined;
    }, 'the Monte Carlo to report progress');

    const small = await stack.submit('echo', { message: 'meanwhile', delay_ms: 300 });
    await stack.until(small.task_id, ['completed']);
    // The short task finished while the long one was still computing.
    expect((await stack.task(big.task_id)).status).toBe('active');
    for (let i = 0; i < 5; i++) expect((await stack.request('GET', '/health')).status).toBe(200);

    const done = await stack.until(big.task_id, ['completed', 'failed'], 110_000);
    expect(done).toMatchObject({ status: 'completed', attempts: 1, progress: 100 });
    const result = done.result as { var: number; expected_shortfall: number };
    expect(Number.isFinite(result.var)).toBe(true);
    expect(result.expected_shortfall).toBeGreaterThan(result.var);
    // Its lock was renewed throughout: never taken for stalled, never lost.
    const actions = stack
      .logLines()
      .filter((line) => line.task_id === big.task_id)
      .map((line) => line['event.action']);
    expect(actions).toContain('task-completed');
    expect(actions).not.toContain('task-stalled');
    expect(actions).not.toContain('task-completion-lost');
    expect(stack.allOutput()).not.toMatch(new RegExp(`task ${big.task_id}: lock renewal failed`));
  });

  it('refuses one simulation batch more, naming the figure, the limit and its setting', async () => {
    const problem = await refused({
      type: 'calculate_var',
      data: {
        method: 'monte_carlo',
        positions: positions(ASSETS),
        covariance: ones(ASSETS),
        simulations: SIMULATIONS + 1000,
      },
    });
    expect(problem.title).toBe('Task over its cost limit');
    expect(problem.cost).toEqual({
      amount: LARGEST + 1000 * ASSETS ** 2,
      unit: 'operations',
      limit: LARGEST,
      setting: 'TASK_VAR_MAX_OPERATIONS',
    });
    expect(problem.detail).toContain(
      `calculate_var would cost 4.048e+9 operations (assets³ + simulations × assets² = 200³ + 101000 × 200²), over the limit of 4.008e+9 set by TASK_VAR_MAX_OPERATIONS; use fewer simulations, observations or assets, or raise TASK_VAR_MAX_OPERATIONS`,
    );
  });

  it('refuses a batch whose portfolios together cost more than TASK_BATCH_MAX_OPERATIONS', async () => {
    const portfolio = {
      method: 'monte_carlo',
      positions: positions(10),
      covariance: diagonal(10),
      simulations: 600_000,
    };
    const problem = await refused({
      type: 'batch_var',
      data: { portfolios: [portfolio, portfolio] },
    });
    expect(problem.cost).toMatchObject({
      amount: 2 * (1000 + 600_000 * 100),
      limit: 1e8,
      setting: 'TASK_BATCH_MAX_OPERATIONS',
    });
    expect(problem.detail).toMatch(/the sum over 2 portfolios/);
  });

  it('refuses a batch with one portfolio over TASK_VAR_MAX_OPERATIONS, pointing at it', async () => {
    const small = { method: 'parametric', positions: positions(1), covariance: [[1e-4]] };
    const heavy = {
      method: 'monte_carlo',
      positions: positions(64),
      covariance: diagonal(64),
      simulations: 1_000_000,
    };
    const problem = await refused({ type: 'batch_var', data: { portfolios: [small, heavy] } });
    expect(problem.cost).toMatchObject({ setting: 'TASK_VAR_MAX_OPERATIONS', limit: LARGEST });
    expect(problem.errors?.map((e) => e.pointer)).toEqual(['/data/portfolios/1']);
  });

  it('refuses an echo longer than TASK_ECHO_MAX_DELAY_MS', async () => {
    const problem = await refused({ type: 'echo', data: { delay_ms: 2001 } });
    expect(problem.cost).toEqual({
      amount: 2001,
      unit: 'ms',
      limit: 2000,
      setting: 'TASK_ECHO_MAX_DELAY_MS',
    });
    expect(problem.errors?.map((e) => e.pointer)).toEqual(['/data/delay_ms']);
  });

  it('checks a 1 MB batch of 200×200 all-ones covariances at once, and runs it', async () => {
    const portfolio = {
      method: 'parametric',
      positions: positions(ASSETS),
      covariance: ones(ASSETS),
    };
    const data = { portfolios: new Array(11).fill(portfolio) as unknown[] };
    expect(JSON.stringify({ type: 'batch_var', data }).length).toBeLessThan(1024 * 1024);
    const batch = await stack.submit('batch_var', data);
    expect((await stack.request('GET', '/health')).status).toBe(200);
    const done = await stack.until(batch.task_id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    const result = done.result as { portfolios: number; sum_of_var: number };
    expect(result.portfolios).toBe(11);
    expect(Number.isFinite(result.sum_of_var)).toBe(true);
  });

  it('stops a computation past TASK_THREAD_TIMEOUT_MS and fails the task once, saying why', async () => {
    const task: Task = await stack.submit(
      'calculate_var',
      {
        method: 'monte_carlo',
        positions: positions(ASSETS),
        covariance: covariance(ASSETS),
        simulations: SIMULATIONS,
      },
      { queue: 'low' },
    );
    const failed = await stack.until(task.task_id, ['completed', 'failed']);
    expect(failed).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: {
        type: 'UnrecoverableError',
        message: expect.stringMatching(
          /stopped after 200 ms of computing, the limit set by TASK_THREAD_TIMEOUT_MS/,
        ) as unknown,
      },
    });
  });
});
