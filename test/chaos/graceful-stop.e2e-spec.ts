// Workers are stopped the polite way (SIGTERM, as a deploy or a scale-down does it) while
// tasks run, one every 2 s, each replaced. A stopping worker finishes what it holds and takes
// nothing new: every accepted task completes, and none runs twice.
import { REDIS_URL } from '../support/services';
import { TestStack, type Task } from '../support/stack';
import {
  accountLines,
  expectEveryLineOnce,
  recordScenario,
  RotatingWorkers,
  scaled,
  taskCounts,
  untilFinished,
} from './chaos';

const TASKS = scaled(2_000, 400);
const WORKERS = 3;
const STOP_EVERY_MS = 2_000;

describe('chaos: workers SIGTERMed every 2 s', () => {
  const stack = new TestStack({
    WORKER_CONCURRENCY: '8',
    WORKER_SHUTDOWN_GRACE_MS: '30000',
    // One client submits the whole load, faster than the workers drain it.
    QUOTA_TASKS_PER_CLIENT: '1000000',
  });
  afterAll(() => stack.stop());

  it(`finishes in-flight tasks and runs none of ${TASKS} twice`, async () => {
    const since = new Date();
    await stack.startApi();
    const accepted: Task[] = [];
    for (let n = 0; n < TASKS; n += 50) {
      accepted.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(50, TASKS - n) }, (_, i) =>
            stack.submit('echo', { message: `stop ${n + i}`, delay_ms: 300 + ((n + i) % 4) * 100 }),
          ),
        )),
      );
    }
    const ids = accepted.map((t) => t.task_id);

    const workers = await RotatingWorkers.start(stack, WORKERS, 'SIGTERM', STOP_EVERY_MS);
    const finished = await untilFinished(REDIS_URL, (id) => stack.prefixOfTask(id), ids).finally(
      () => workers.stop(),
    );
    await workers.stop();
    const stops = workers.exits.length;
    const everyProcess = [...workers.everyProcess, ...(stack.api ? [stack.api] : [])];

    const completed = finished.filter((t) => t.state === 'completed');
    const twice = finished.filter((t) => t.started > 1);
    const lines = await accountLines(everyProcess, since);
    recordScenario({
      scenario: 'graceful stop',
      load: `${TASKS} tasks of 300-600 ms, ${WORKERS} workers`,
      faults: `${stops} SIGTERM(s), one every 2 s`,
      tasks: taskCounts(finished),
      lines: lines.counts,
    });

    expect(stops).toBeGreaterThan(0);
    expect(workers.exits.every((code) => code === 0)).toBe(true);
    expect(completed.length).toBe(accepted.length);
    expect(twice).toEqual([]);
    expectEveryLineOnce(lines);
  }, 900_000);
});
