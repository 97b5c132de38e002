// Elasticsearch goes away for a minute while clients submit tasks at a steady rate: the API
// answers as fast as before (its lines wait in the spool, off the request path), every task
// completes, and when Elasticsearch is back every line arrives, none twice. A private node,
// so that stopping it disturbs no other test.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, freePort, repoRoot, services } from '../support/services';
import { TestStack, type Task } from '../support/stack';
import {
  accountLines,
  expectEveryLineOnce,
  recordScenario,
  scaled,
  taskCounts,
  untilFinished,
} from './chaos';

const STREAM = 'logs-threadline-chaos';
const RATE = 50; // submits per second
const PHASE_MS = scaled(60_000, 15_000);
/**
 * The tail compared: the p99 at full size (the 30th-slowest of 3,000 submits), the p95 at CI's
 * size (the 38th-slowest of 750). A tail estimate is as steady as the number of samples beyond
 * it: CI's p99 is the 8th-slowest of 750, and one burst of scheduling on two shared cores moved
 * it from below normal to 1.7 times normal and back in runs of the same commit.
 */
const TAIL = scaled(0.99, 0.95);
const TAIL_NAME = `p${Math.round(TAIL * 100)}`;

/** The p-th fraction (0..1) of `values`, by rank. */
const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
};

describe('chaos: Elasticsearch down for a while under load', () => {
  let port: number;
  let url: string;
  let stack: TestStack;

  beforeAll(async () => {
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    services('up', 'elasticsearch', url);
    stack = new TestStack({ ELASTICSEARCH_URL: url, LOG_DATA_STREAM: STREAM, LOG_LEVEL: 'info' });
    await stack.startApi();
    await stack.startWorker();
    await stack.startWorker();
    await eventually(
      () => Promise.resolve(stack.allOutput().includes('es-template-installed') || undefined),
      'the API to install the index template',
    );
  });
  afterAll(async () => {
    services('up', 'elasticsearch', url);
    await stack.stop();
    services('down', 'elasticsearch', url);
    rmSync(join(repoRoot, '.services', `elasticsearch-${port}`), { recursive: true, force: true });
  });

  /** Submits RATE tasks a second for `ms`, one after another; each submit's latency in ms. */
  async function load(ms: number, accepted: Task[]): Promise<number[]> {
    const latencies: number[] = [];
    const end = performance.now() + ms;
    let next = performance.now();
    while (performance.now() < end) {
      const started = performance.now();
      const reply = await stack.request<Task>('POST', '/api/v1/tasks', {
        type: 'echo',
        data: { message: 'outage' },
      });
      latencies.push(performance.now() - started);
      if (reply.status !== 202) throw new Error(`submit answered ${reply.status}: ${reply.text}`);
      accepted.push(reply.body);
      next += 1000 / RATE;
      await sleep(Math.max(0, next - performance.now()));
    }
    return latencies;
  }

  it(`keeps the API ${TAIL_NAME} within 10 % of normal and loses no line`, async () => {
    const since = new Date();
    const accepted: Task[] = [];
    await load(3_000, accepted); // warm-up
    const normal = await load(PHASE_MS, accepted);
    services('down', 'elasticsearch', url);
    const outage = await load(PHASE_MS, accepted);
    services('up', 'elasticsearch', url);

    const finished = await untilFinished(
      stack.env.REDIS_URL,
      (id) => stack.prefixOfTask(id),
      accepted.map((t) => t.task_id),
    );
    const processes = stack.allProcesses();
    const lines = await accountLines(processes, since, url, STREAM);
    const [tailNormal, tailOutage] = [percentile(normal, TAIL), percentile(outage, TAIL)];
    recordScenario({
      scenario: 'Elasticsearch outage',
      load: `${RATE} submits/s, API and 2 workers`,
      faults: `Elasticsearch down ${PHASE_MS / 1000} s; API ${TAIL_NAME} ${tailNormal.toFixed(1)} ms normal, ${tailOutage.toFixed(1)} ms during (p99 ${percentile(normal, 0.99).toFixed(1)} and ${percentile(outage, 0.99).toFixed(1)})`,
      tasks: taskCounts(finished),
      lines: lines.counts,
    });

    expect(taskCounts(finished).lost).toBe(0);
    expectEveryLineOnce(lines);
    // Within 10 %, or 5 ms where that is more: a few ms of scheduling on two shared cores move
    // any tail either way.
    expect(tailOutage).toBeLessThanOrEqual(Math.max(tailNormal * 1.1, tailNormal + 5));
  }, 600_000);
});
