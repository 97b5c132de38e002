// Workers die mid-task (SIGKILL, as the OOM killer or a pulled plug would do it) while tasks
// run across three of them, and a replacement starts after each death. Every task that got a
// 202 completes; a task runs twice only when a worker died with it in hand (BullMQ counts that
// as a stall); every run of a task logs under its one correlation_id; and every line a
// process put on stdout reaches Elasticsearch once, the dead ones' shipped by their successors.
import { REDIS_URL } from '../support/services';
import { TestStack, type Task } from '../support/stack';
import {
  accountLines,
  expectEveryLineOnce,
  recordScenario,
  RotatingWorkers,
  scaled,
  taskCounts,
  unexplainedReruns,
  untilFinished,
} from './chaos';

const TASKS = scaled(5_000, 600);
const WORKERS = 3;
const KILL_EVERY_MS = 2_000;
const SUBMITTERS = 16;

describe('chaos: workers SIGKILLed every 2 s', () => {
  const stack = new TestStack({
    // A dead worker's tasks go back to their queue within about 2 s.
    WORKER_LOCK_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    // A task may be in hand at more than one death; it must still complete.
    WORKER_MAX_STALLED: '10',
    WORKER_CONCURRENCY: '8',
    // One client submits the whole load, faster than the workers drain it.
    QUOTA_TASKS_PER_CLIENT: '1000000',
  });
  afterAll(() => stack.stop());

  it(`completes every one of ${TASKS} accepted tasks`, async () => {
    const since = new Date();
    await stack.startApi();
    const workers = await RotatingWorkers.start(stack, WORKERS, 'SIGKILL', KILL_EVERY_MS);

    const accepted: Task[] = [];
    /** The correlation_id the API gave each task (its X-Correlation-ID answer). */
    const correlationOf = new Map<string, string | null>();
    let refused = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: SUBMITTERS }, async () => {
        while (next < TASKS) {
          const n = next++;
          const reply = await stack.request<Task>('POST', '/api/v1/tasks', {
            type: 'echo',
            data: { message: `chaos ${n}`, delay_ms: 100 + (n % 5) * 100 },
          });
          if (reply.status === 202) {
            accepted.push(reply.body);
            correlationOf.set(reply.body.task_id, reply.headers.get('x-correlation-id'));
          } else refused += 1;
        }
      }),
    );
    const ids = accepted.map((t) => t.task_id);
    // Kills go on until every task has finished, so that late tasks meet deaths too.
    const finished = await untilFinished(REDIS_URL, (id) => stack.prefixOfTask(id), ids).finally(
      () => workers.stop(),
    );
    const kills = workers.exits.length;
    const everyProcess = [...workers.everyProcess, ...(stack.api ? [stack.api] : [])];

    const completed = finished.filter((t) => t.state === 'completed');
    const lines = await accountLines(everyProcess, since);
    recordScenario({
      scenario: 'worker crashes',
      load: `${TASKS} tasks, ${WORKERS} workers`,
      faults: `${kills} SIGKILL(s), one every 2 s`,
      tasks: taskCounts(finished),
      lines: lines.counts,
    });

    expect(refused).toBe(0);
    expect(kills).toBeGreaterThan(0);
    expect(completed.length).toBe(accepted.length);
    expect(unexplainedReruns(finished)).toEqual([]);

    // Every line of a task, from every run of it on any worker, has the task's correlation_id.
    const taskLines = stack
      .logLines()
      .filter((line) => typeof line.task_id === 'string' && correlationOf.has(line.task_id));
    expect(taskLines.length).toBeGreaterThan(accepted.length);
    const strays = taskLines.filter(
      (line) => line.correlation_id !== correlationOf.get(line.task_id as string),
    );
    expect(strays).toEqual([]);

    expectEveryLineOnce(lines);
  }, 900_000);
});
