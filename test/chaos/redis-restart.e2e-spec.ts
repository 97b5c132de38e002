// Redis restarts (stopped, then started again from its append-only file) while clients submit
// and workers run tasks. During the outage the API answers 503 with Retry-After at once; when
// Redis is back, the API and every worker recover by themselves, workers take tasks again
// within 10 s, and every task that got a 202 completes.
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, freePort, services } from '../support/services';
import { TestStack, type RunningProcess, type Task } from '../support/stack';
import { recordScenario, scaled, taskCounts, untilFinished } from './chaos';

const SUBMITTERS = 4;
const OUTAGE_MS = scaled(10_000, 4_000);
const RESUME_LIMIT_MS = 10_000;

interface Problem {
  detail: string;
}

// Unsharded, and with the queues in 3 shards (REDIS_SHARDS), each a hash slot of its own.
describe.each([1, 3])('chaos: Redis restarts mid-run (REDIS_SHARDS=%d)', (shards) => {
  let url: string;
  let stack: TestStack;

  beforeAll(async () => {
    url = `redis://127.0.0.1:${await freePort()}`;
    services('up', 'redis', url);
    stack = new TestStack({
      REDIS_URL: url,
      WORKER_LOCK_MS: '3000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      WORKER_MAX_STALLED: '5',
      REDIS_SHARDS: String(shards),
    });
    await stack.startApi();
  });
  afterAll(async () => {
    services('up', 'redis', url);
    await stack.stop();
    services('down', 'redis', url);
  });

  it('loses no accepted task; answers 503 with Retry-After meanwhile; workers resume within 10 s', async () => {
    const workers: RunningProcess[] = [];
    for (let i = 0; i < 3; i++) workers.push(await stack.startWorker());

    const accepted: Task[] = [];
    const unavailable: { retryAfter: string | null; type: string | null; detail: string }[] = [];
    const other: string[] = [];
    let submitting = true;
    let n = 0;
    const submitters = Array.from({ length: SUBMITTERS }, async () => {
      while (submitting) {
        try {
          const reply = await stack.request<Task & Problem>('POST', '/api/v1/tasks', {
            type: 'echo',
            data: { message: `restart ${n++}`, delay_ms: 100 },
          });
          if (reply.status === 202) accepted.push(reply.body);
          else if (reply.status === 503) {
            unavailable.push({
              retryAfter: reply.headers.get('retry-after'),
              type: reply.headers.get('content-type'),
              detail: reply.body.detail,
            });
            await sleep(100);
          } else other.push(`${reply.status} ${reply.text}`);
        } catch (error) {
          other.push(String(error));
        }
        await sleep(20);
      }
    });

    await eventually(() => Promise.resolve(accepted.length >= 50 ? true : undefined), '50 tasks');
    services('down', 'redis', url);
    await sleep(OUTAGE_MS);
    services('up', 'redis', url);
    const back = Date.now();
    const acceptedBefore = accepted.length;

    // Every worker takes a task submitted after the restart, within RESUME_LIMIT_MS.
    const resumed = await eventually(
      () => {
        const taking = workers.filter((worker) =>
          worker
            .stdout()
            .split('\n')
            .some((line) => {
              if (!line.includes('"task-started"')) return false;
              const at = Date.parse((JSON.parse(line) as { '@timestamp': string })['@timestamp']);
              return at >= back;
            }),
        );
        return Promise.resolve(taking.length === workers.length ? Date.now() - back : undefined);
      },
      'every worker to take a task after the restart',
      60_000,
    );
    await eventually(
      () => Promise.resolve(accepted.length >= acceptedBefore + 50 ? true : undefined),
      'submissions to work again',
    );
    submitting = false;
    await Promise.all(submitters);

    const ids = accepted.map((t) => t.task_id);
    const finished = await untilFinished(url, (id) => stack.prefixOfTask(id), ids, 120_000);
    const completed = finished.filter((t) => t.state === 'completed');
    recordScenario({
      scenario: shards === 1 ? 'Redis restart' : `Redis restart, ${shards} shards`,
      load: `${SUBMITTERS} submitters, 3 workers`,
      faults: `Redis down ${OUTAGE_MS / 1000} s (AOF on); workers resumed in ${(resumed / 1000).toFixed(1)} s`,
      tasks: taskCounts(finished),
    });

    expect(other).toEqual([]);
    expect(unavailable.length).toBeGreaterThan(0);
    for (const problem of unavailable) {
      expect(problem.retryAfter).toMatch(/^\d+$/);
      expect(problem.type).toMatch(/^application\/problem\+json/);
      expect(problem.detail).toMatch(/unavailable/);
    }
    expect(resumed).toBeLessThanOrEqual(RESUME_LIMIT_MS);
    expect(completed.length).toBe(accepted.length);
  }, 300_000);
});
