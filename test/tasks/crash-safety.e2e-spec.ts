// At least once: a task survives its worker's death, retries with backoff, fails for good when
// it must, and a task that kills every worker that runs it ends `failed` instead of looping.
import { TestStack } from '../support/stack';

const LOCK_MS = 1500;

describe('crash safety', () => {
  const stack = new TestStack({
    TASK_FAULT_INJECTION: 'true',
    WORKER_LOCK_MS: String(LOCK_MS),
    WORKER_STALLED_INTERVAL_MS: '500',
    WORKER_MAX_STALLED: '1',
    TASK_BACKOFF_MS: '300',
    TASK_ATTEMPTS: '3',
    WORKER_SHUTDOWN_GRACE_MS: '20000',
  });

  beforeAll(() => stack.startApi());
  // Each test starts the workers it needs: none may outlive it, even when it fails.
  afterEach(() => stack.stopWorkers());
  afterAll(() => stack.stop());

  it('re-runs a task whose worker was SIGKILLed mid-task on another worker: attempts 2', async () => {
    const doomed = await stack.startWorker({ WORKER_CONCURRENCY: '1' });
    const task = await stack.submit('echo', { delay_ms: 4000, message: 'survivor' });
    await stack.until(task.task_id, ['active']);
    doomed.kill('SIGKILL');
    expect(await doomed.exited).toBe('SIGKILL');

    const rescuer = await stack.startWorker({ WORKER_CONCURRENCY: '1' });
    const done = await stack.until(task.task_id, ['completed', 'failed']);
    expect(done).toMatchObject({
      status: 'completed',
      attempts: 2,
      result: { message: 'survivor', attempt: 2 },
    });
    rescuer.kill('SIGTERM');
    await rescuer.exited;
  });

  it('retries a retryable error with exponential backoff, then succeeds', async () => {
    const worker = await stack.startWorker();
    const task = await stack.submit('echo', { fail: { kind: 'retryable', attempts: 2 } });
    const done = await stack.until(task.task_id, ['completed', 'failed']);
    expect(done).toMatchObject({ status: 'completed', attempts: 3, result: { attempt: 3 } });
    // Two waits, 300 ms then 600 ms, lie between submission and the third start.
    expect(Date.parse(done.started_at ?? '') - Date.parse(done.created_at)).toBeGreaterThanOrEqual(
      900,
    );
    worker.kill('SIGTERM');
    await worker.exited;
  });

  it('fails after TASK_ATTEMPTS runs when the error persists, naming the error', async () => {
    const worker = await stack.startWorker();
    const task = await stack.submit('echo', { fail: { kind: 'retryable' } });
    const done = await stack.until(task.task_id, ['completed', 'failed']);
    expect(done).toMatchObject({
      status: 'failed',
      attempts: 3,
      error: { type: 'InjectedFailureError', message: 'injected retryable failure on attempt 3' },
    });
    expect(JSON.stringify(done)).not.toMatch(/\n\s+at /);
    worker.kill('SIGTERM');
    await worker.exited;
  });

  it('fails at once, without retrying, on a non-retryable error', async () => {
    const worker = await stack.startWorker();
    const task = await stack.submit('echo', { fail: { kind: 'fatal' } });
    const done = await stack.until(task.task_id, ['completed', 'failed']);
    expect(done).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { type: 'UnrecoverableError' },
    });
    worker.kill('SIGTERM');
    await worker.exited;
  });

  it('ends a task that kills every worker as failed after WORKER_MAX_STALLED + 1 runs', async () => {
    const task = await stack.submit('echo', { fail: { kind: 'crash' } });
    let crashes = 0;
    for (;;) {
      // It may crash before its start-up line reaches stdout: do not wait for that line.
      const worker = stack.launchWorker({ WORKER_CONCURRENCY: '1' });
      const outcome = await Promise.race([
        worker.exited.then(() => 'crashed' as const),
        stack.until(task.task_id, ['failed', 'completed'], 30_000).then(() => 'finished' as const),
      ]);
      if (outcome === 'finished') {
        worker.kill('SIGTERM');
        await worker.exited;
        break;
      }
      crashes++;
      expect(crashes).toBeLessThanOrEqual(2);
    }
    const done = await stack.task(task.task_id);
    expect(done).toMatchObject({ status: 'failed', error: { type: 'WorkerLost' } });
    expect(crashes).toBe(2);
  }, 120_000);

  it('puts a task still running when the SIGTERM grace runs out back in its queue at once', async () => {
    const worker = await stack.startWorker({
      WORKER_CONCURRENCY: '1',
      WORKER_SHUTDOWN_GRACE_MS: '300',
    });
    const task = await stack.submit('echo', { delay_ms: 5000 });
    await stack.until(task.task_id, ['active']);
    worker.kill('SIGTERM');
    await worker.exited;
    // Queued again now, not left locked until its lock expires and it counts as stalled.
    expect((await stack.task(task.task_id)).status).toBe('queued');
    await stack.startWorker();
    expect(await stack.until(task.task_id, ['completed', 'failed'])).toMatchObject({
      status: 'completed',
      attempts: 2,
    });
  });

  it('on SIGTERM finishes the task in flight and takes no new one', async () => {
    const worker = await stack.startWorker({ WORKER_CONCURRENCY: '1' });
    const inFlight = await stack.submit('echo', { delay_ms: 2000 });
    await stack.until(inFlight.task_id, ['active']);
    const waiting = await stack.submit('echo', {});
    worker.kill('SIGTERM');
    // A clean shutdown exits 0 (after the log transport has written its last lines).
    expect(await worker.exited).toBe(0);

    const finished = await stack.task(inFlight.task_id);
    expect(finished).toMatchObject({ status: 'completed', attempts: 1 });
    expect((await stack.task(waiting.task_id)).status).toBe('queued');

    const next = await stack.startWorker();
    expect((await stack.until(waiting.task_id, ['completed'])).attempts).toBe(1);
    next.kill('SIGTERM');
    await next.exited;
  });
});
