// Threadline scaled out on this machine: a Redis Cluster (three masters, a replica each),
// two API processes behind nginx, three workers. Any instance answers for any task, one ID
// still finds the whole flow, and a master's death loses no accepted task.
import { Client } from '@elastic/elasticsearch';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Trace } from '../../src/traces/trace';
import { recordScenario, taskCounts, unexplainedReruns, untilFinished } from '../chaos/chaos';
import { allDocs, lineKey, type LogDoc } from '../support/log-search';
import {
  clusterClient,
  clusterNodeList,
  killMaster,
  slotOwner,
  startRedisCluster,
  stopRedisCluster,
  submitRetrying,
  type TestRedisCluster,
} from '../support/redis-cluster';
import { type ShippedStack, startShippedStack, submitInFlow } from '../support/shipped-stack';
import { ELASTICSEARCH_URL, eventually, repoRoot } from '../support/services';
import { TEST_DATA_STREAM, TestStack, type Task } from '../support/stack';

const FIRST_PORT = 7400;
const TASKS = 2_000;
const SUBMITTERS = 16;

async function taskVia(url: string, id: string): Promise<Task> {
  const response = await fetch(`${url}/api/v1/tasks/${id}`);
  return (await response.json()) as Task;
}

describe('scaled out: a Redis Cluster, two APIs behind nginx, three workers', () => {
  const nodeList = clusterNodeList(FIRST_PORT);
  const stack = new TestStack({
    REDIS_CLUSTER_NODES: nodeList,
    LOG_LEVEL: 'info',
    // A worker that loses its connection mid-task hands the task on within seconds.
    WORKER_LOCK_MS: '3000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    WORKER_MAX_STALLED: '5',
    WORKER_CONCURRENCY: '8',
    // One client submits the whole load, faster than the workers drain it.
    QUOTA_TASKS_PER_CLIENT: '1000000',
    // Every key in one slot: redis-shards.e2e-spec.ts has the queues sharded.
    REDIS_SHARDS: '1',
  });
  const keyPrefix = `{${stack.prefix}}`;
  let cluster: TestRedisCluster;
  let shipped: ShippedStack | undefined;

  beforeAll(async () => {
    cluster = startRedisCluster(FIRST_PORT);
    shipped = await startShippedStack(stack, { apis: 2, workers: 3 });
  }, 180_000);
  afterAll(async () => {
    await shipped?.stop();
    stopRedisCluster(FIRST_PORT);
  });

  it('follows one flow from nginx to API A, a poll on API B and a worker: one search, one trace', async () => {
    const flow = `cluster-${randomUUID()}`;
    const { task, requestId } = await submitInFlow(shipped, flow, {
      type: 'echo',
      data: { message: 'across instances', delay_ms: 300 },
    });
    // nginx chose the API that took the submit: poll the other one.
    const submitter = await eventually(
      () => Promise.resolve(stack.apis.find((api) => api.process.stdout().includes(requestId))),
      'the API that took the submit to log it',
    );
    const other = stack.apis.find((api) => api !== submitter);
    expect(other).toBeDefined();
    const done = await eventually(async () => {
      const seen = await taskVia(other?.url ?? '', task.task_id);
      return seen.status === 'completed' ? seen : undefined;
    }, 'the task to complete, polled on the other API');
    expect(done.correlation_id).toBe(flow);
    // Either API lists every worker.
    for (const api of stack.apis) {
      const queues = (await (await fetch(`${api.url}/api/v1/queues`)).json()) as {
        workers: { pid: number }[];
      };
      expect(queues.workers.map((w) => w.pid).sort()).toEqual(
        stack
          .allProcesses()
          .filter((p) => !stack.apis.some((a) => a.process === p))
          .map((p) => p.pid)
          .sort(),
      );
    }

    await shipped?.untilSearchable([flow]);
    const client = new Client({ node: ELASTICSEARCH_URL });
    const docs = await allDocs(client, TEST_DATA_STREAM, { term: { correlation_id: flow } });
    await client.close();
    const pidsOf = (service: string): Set<unknown> =>
      new Set(docs.filter((d) => d['service.name'] === service).map((d) => d['process.pid']));
    expect(docs.some((d) => d['service.name'] === 'nginx')).toBe(true);
    // Both APIs: A took the submit, B answered the poll.
    expect(pidsOf('threadline-api')).toEqual(new Set([submitter?.process.pid, other?.process.pid]));
    const ranOn = docs.find((d) => d['event.action'] === 'task-completed')?.['process.pid'];
    expect(stack.allProcesses().map((p) => p.pid)).toContain(ranOn);
    expect(stack.apis.map((api) => api.process.pid)).not.toContain(ranOn);

    // threadline trace shows the same lines.
    const run = spawnSync(
      process.execPath,
      [join(repoRoot, 'dist', 'cli', 'threadline.js'), 'trace', flow, '--format', 'json'],
      {
        env: {
          PATH: process.env.PATH ?? '',
          ELASTICSEARCH_URL,
          LOG_DATA_STREAM: TEST_DATA_STREAM,
        },
        encoding: 'utf8',
      },
    );
    expect(run.status).toBe(0);
    const trace = JSON.parse(run.stdout) as Trace;
    // nginx's @timestamp is stored as epoch milliseconds; the trace gives every line ISO time.
    const sameTime = (doc: LogDoc): string =>
      lineKey({
        ...doc,
        '@timestamp': new Date(
          Number(doc['@timestamp']) || String(doc['@timestamp']),
        ).toISOString(),
      });
    expect(new Set(trace.lines.map(sameTime))).toEqual(new Set(docs.map(sameTime)));
    expect(new Set(trace.lines.map((l) => l['service.name']))).toEqual(
      new Set(['nginx', 'threadline-api', 'threadline-worker']),
    );
    // And so does GET /api/v1/traces/:id, from either API.
    for (const api of stack.apis) {
      const reply = await fetch(`${api.url}/api/v1/traces/${encodeURIComponent(flow)}`);
      expect(reply.status).toBe(200);
      const served = new Set(((await reply.json()) as Trace).lines.map(sameTime));
      expect(docs.map(sameTime).filter((line) => !served.has(line))).toEqual([]);
    }
  });

  it(`completes every accepted one of ${TASKS} tasks while a master dies and its replica takes over`, async () => {
    const owner = await slotOwner(nodeList, `${keyPrefix}:workers`);
    const master = cluster.nodes.find((node) => node.port === owner.master);
    const replica = owner.replicas[0];
    expect(master && replica).toBeDefined();
    const urls = stack.apis.map((api) => api.url);

    const accepted: string[] = [];
    let refused = 0;
    let killedAt = -1;
    let promotedMs = -1;
    let supervisor: Promise<void> = Promise.resolve();
    let next = 0;
    const started = Date.now();
    // What the APIs logged as errors (by then), to show the cause of an unexpected answer.
    const errors = (): string =>
      stack
        .allOutput()
        .split('\n')
        .filter((line) => line.includes('"log.level":"error"'))
        .join('\n');
    await Promise.all(
      Array.from({ length: SUBMITTERS }, async () => {
        while (next < TASKS) {
          const n = next++;
          if (n === Math.floor(TASKS / 3)) {
            killedAt = Date.now() - started;
            // Until the replica takes over, submits answer 503.
            supervisor = killMaster(FIRST_PORT, master ?? { port: 0, pid: 0 }, replica ?? 0).then(
              (ms) => {
                promotedMs = ms;
              },
            );
          }
          const id = await submitRetrying(
            (attempt) => urls[(n + attempt) % urls.length],
            { type: 'echo', data: { message: `cluster ${n}`, delay_ms: 50 + (n % 4) * 50 } },
            `cluster-${stack.prefix}-${n}`,
            () => (refused += 1),
            errors,
          );
          accepted.push(id);
        }
      }),
    );
    await supervisor;
    expect(killedAt).toBeGreaterThan(0);
    expect(new Set(accepted).size).toBe(TASKS);

    const finished = await untilFinished(
      () => clusterClient(nodeList),
      keyPrefix,
      accepted,
      240_000,
    );
    recordScenario({
      scenario: 'redis master failover',
      load: `${TASKS} tasks, 2 APIs, 3 workers, Redis Cluster 3+3`,
      faults: `master ${owner.master} SIGKILLed at ${(killedAt / 1000).toFixed(1)} s, replica master ${(promotedMs / 1000).toFixed(1)} s later; ${refused} 503/409 answers retried`,
      tasks: taskCounts(finished),
    });
    expect(finished.filter((t) => t.state !== 'completed')).toEqual([]);
    expect(unexplainedReruns(finished)).toEqual([]);
    // The replica is master now; every API and worker follows it.
    const { master: now } = await slotOwner(nodeList, `${keyPrefix}:workers`);
    expect(now).toBe(replica);
  }, 600_000);
});
