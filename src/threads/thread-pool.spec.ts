import { setTimeout as sleep } from 'node:timers/promises';
import { ThreadPool, ThreadTaskError, ThreadTimeoutError } from './thread-pool';

// A thread script speaking the protocol of serveThreadTasks, written out so that it runs
// without compiling: `spin` computes until main sets a shared flag, `forever` never stops,
// `exitAfter` ends the thread once it has answered.
const SCRIPT = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ input }) => {
  if (input.forever) for (;;) {}
  if (input.flag) {
    const flag = new Int32Array(input.flag);
    while (Atomics.load(flag, 0) === 0) {}
  }
  if (input.fail) {
    parentPort.postMessage({ kind: 'error', name: 'VarInputError', message: 'bad input', fields: { pointer: '/x' } });
    return;
  }
  for (const fraction of [0.25, 0.5, 0.75]) parentPort.postMessage({ kind: 'progress', fraction });
  parentPort.postMessage({ kind: 'done', result: input.value * 2 });
  if (input.exitAfter) setTimeout(() => process.exit(0), 10);
});
`;

describe(ThreadPool.name, () => {
  let pool: ThreadPool;
  const make = (size: number, timeoutMs = 60_000, idleMs?: number): ThreadPool =>
    (pool = new ThreadPool({
      filename: SCRIPT,
      eval: true,
      size,
      timeoutMs,
      timeoutSetting: 'TASK_THREAD_TIMEOUT_MS',
      idleMs,
    }));
  /** Resolves once the pool has `count` threads alive. */
  const threadsReach = async (count: number): Promise<void> => {
    while (pool.threads !== count) await sleep(10);
  };
  afterEach(() => pool.close());

  it('runs a task on a thread and hands its progress over, in order, before the result', async () => {
    const seen: number[] = [];
    const result = await make(1).run<number>({ value: 21 }, (f) => {
      seen.push(f);
      return Promise.resolve();
    });
    expect(result).toBe(42);
    expect(seen).toEqual([0.25, 0.5, 0.75]);
  });

  it('leaves the event loop free while a thread computes', async () => {
    // The thread computes until a timer on this thread releases it: were the computation on
    // this event loop, the timer could never fire and the task never finish.
    const flag = new SharedArrayBuffer(4);
    const running = make(1).run<number>({ value: 1, flag });
    setTimeout(() => Atomics.store(new Int32Array(flag), 0, 1), 20);
    await expect(running).resolves.toBe(2);
  });

  it('stops a thread past its time budget, naming the setting, and goes on with a new one', async () => {
    make(1, 300);
    const error: unknown = await pool.run({ forever: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThreadTimeoutError);
    expect((error as Error).message).toMatch(
      /stopped after 300 ms of computing, the limit set by TASK_THREAD_TIMEOUT_MS/,
    );
    await expect(pool.run({ value: 5 })).resolves.toBe(10);
  });

  it('carries a thrown error back by name, message and fields', async () => {
    const error: unknown = await make(1)
      .run({ fail: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThreadTaskError);
    expect(error).toMatchObject({
      thrownName: 'VarInputError',
      message: 'bad input',
      fields: { pointer: '/x' },
    });
  });

  it('runs at most `size` tasks at once; the rest wait for a thread', async () => {
    make(2);
    const flag = new SharedArrayBuffer(4);
    const tasks = [1, 2, 3].map((value) => pool.run<number>({ value, flag }));
    expect(pool.busy).toBe(2);
    Atomics.store(new Int32Array(flag), 0, 1);
    await expect(Promise.all(tasks)).resolves.toEqual([2, 4, 6]);
    expect(pool.busy).toBe(0);
  });

  it('starts no thread before the first task, and keeps it for the next one', async () => {
    make(2);
    expect(pool.threads).toBe(0);
    await expect(pool.run({ value: 1 })).resolves.toBe(2);
    await expect(pool.run({ value: 2 })).resolves.toBe(4);
    expect(pool.threads).toBe(1);
  });

  it('lets a thread idle for idleMs exit, and starts a new one for the next task', async () => {
    make(1, 60_000, 50);
    await expect(pool.run({ value: 1 })).resolves.toBe(2);
    // Its memory (a V8 heap, the script's modules) goes back once it has waited idleMs.
    await threadsReach(0);
    await expect(pool.run({ value: 3 })).resolves.toBe(6);
    expect(pool.threads).toBe(1);
  });

  it('never hands a task to a thread that ended while idle', async () => {
    make(1);
    await expect(pool.run({ value: 1, exitAfter: true })).resolves.toBe(2);
    await threadsReach(0);
    await expect(pool.run({ value: 4 })).resolves.toBe(8);
  });
});
