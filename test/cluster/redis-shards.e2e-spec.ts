// The queues sharded over a Redis Cluster's masters (REDIS_SHARDS=3 on 3 masters, a replica
// each): each shard on its own master, any task found from its id alone, and a master's death
// pausing only its shard: submissions on the others answer 202 throughout, and every accepted
// task completes once the replica has taken over.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { recordScenario, taskCounts, unexplainedReruns, untilFinished } from '../chaos/chaos';
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
import { repoRoot } from '../support/services';
import { TestStack, type Task } from '../support/stack';

const FIRST_PORT = 7600;
const TASKS = 1_500;
const SUBMITTERS = 12;

interface QueuesReply {
  queues: Record<string, { completed: number }>;
  workers: unknown[];
  workers_unavailable?: string;
  shards: {
    prefix: string;
    shard?: number;
    queues: Record<string, { completed: number }>;
    unavailable?: string;
  }[];
}

describe('3 shards on a Redis Cluster of 3 masters', () => {
  const nodeList = clusterNodeList(FIRST_PORT);
  const stack = new TestStack({
    REDIS_CLUSTER_NODES: nodeList,
    REDIS_SHARDS: '3',
    LOG_LEVEL: 'info',
    // A worker that loses its connection mid-task hands the task on within seconds.
    WORKER_LOCK_MS: '3000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    WORKER_MAX_STALLED: '5',
    WORKER_CONCURRENCY: '8',
    QUOTA_TASKS_PER_CLIENT: '1000000',
  });
  let cluster: TestRedisCluster;
  const apiUrl = (): string => stack.apis[0]?.url ?? '';

  beforeAll(async () => {
    cluster = startRedisCluster(FIRST_PORT);
    await stack.startApi();
    for (let i = 0; i < 3; i++) await stack.startWorker();
  }, 180_000);
  afterAll(async () => {
    await stack.stop();
    stopRedisCluster(FIRST_PORT);
  });

  const owners = () =>
    Promise.all(stack.shards.prefixes.map((prefix) => slotOwner(nodeList, `${prefix}:workers`)));

  it('puts each shard on a master of its own', async () => {
    const masters = (await owners()).map((owner) => owner.master);
    expect(new Set(masters).size).toBe(3);
  });

  it('finds a task of any shard from its id: GET, the queues per shard, threadline task', async () => {
    const tasks = await Promise.all(
      Array.from({ length: 24 }, (_, i) => stack.submit('echo', { message: `find ${i}` })),
    );
    const byShard = [0, 1, 2].map((shard) =>
      tasks.find((t) => stack.shards.ofTask(t.task_id) === shard),
    );
    expect(byShard.every((t) => t !== undefined)).toBe(true);
    for (const task of byShard as Task[]) {
      const done = await stack.until(task.task_id, ['completed']);
      expect(done.result).toMatchObject({ message: `find ${tasks.indexOf(task)}` });
      const run = spawnSync(
        process.execPath,
        [
          join(repoRoot, 'dist', 'cli', 'threadline.js'),
          'task',
          task.task_id,
          '--api-url',
          apiUrl(),
        ],
        { env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' },
      );
      expect({ code: run.status, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      expect(run.stdout).toContain(task.task_id);
      expect(run.stdout).toContain('completed');
    }
    const queues = await stack.request<QueuesReply>('GET', '/api/v1/queues');
    expect(queues.body.shards.map((s) => [s.shard, s.prefix])).toEqual(
      stack.shards.prefixes.map((prefix, shard) => [shard, prefix]),
    );
    // The dashboard lists each shard's queues, named by its prefix.
    const board = await stack.request<{ queues: { name: string }[] }>(
      'GET',
      '/admin/queues/api/queues',
    );
    expect(board.body.queues.map((q) => q.name).sort()).toEqual(
      stack.shards.prefixes
        .flatMap((p) => ['high', 'low', 'medium'].map((q) => `${p}:${q}`))
        .sort(),
    );
    const perShard = queues.body.shards.map((s) => s.queues.medium.completed);
    expect(perShard.every((n) => n > 0)).toBe(true);
    expect(perShard.reduce((a, b) => a + b, 0)).toBe(queues.body.queues.medium.completed);
  });

  it("kills a shard's master under load, the workers' registry's too: the other shards answer 202 throughout, nothing is lost", async () => {
    // The shard whose master also holds the workers' registry (the unsharded prefix's slot):
    // the harder case, where the workers' heartbeats fail too.
    const { master: registryMaster } = await slotOwner(nodeList, `${stack.keyPrefix}:workers`);
    const victim = (await owners()).findIndex((o) => o.master === registryMaster);
    expect(victim).toBeGreaterThanOrEqual(0);
    const owner = (await owners())[victim];
    const master = cluster.nodes.find((node) => node.port === owner.master);
    const replica = owner.replicas[0];
    expect(master && replica).toBeDefined();

    const accepted: string[] = [];
    /** Answers other than 202 to submissions pinned (by their key) to a live shard. */
    const refusedOnLive: string[] = [];
    let refusedOnVictim = 0;
    let unpinnedRefused = 0;
    let unpinned = 0;
    let killedAt = -1;
    let promotedMs = -1;
    let supervisor: Promise<void> = Promise.resolve();
    let duringOutage: Promise<{ status: number; body: QueuesReply }> | undefined;
    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: SUBMITTERS }, async () => {
        while (next < TASKS) {
          const n = next++;
          if (n === Math.floor(TASKS / 3)) {
            killedAt = Date.now() - started;
            supervisor = killMaster(FIRST_PORT, master ?? { port: 0, pid: 0 }, replica ?? 0).then(
              (ms) => {
                promotedMs = ms;
              },
            );
            // Asked while the shard has no master: the others' counts, and why it has none.
            duringOutage = stack.request<QueuesReply>('GET', '/api/v1/queues');
          }
          // One in four goes without a key: the router may move it off a failing shard.
          const key = n % 4 === 3 ? undefined : `shards-${stack.prefix}-${n}`;
          if (key === undefined) unpinned += 1;
          const id = await submitRetrying(
            apiUrl,
            { type: 'echo', data: { message: `shards ${n}`, delay_ms: 20 + (n % 4) * 20 } },
            key,
            (status, text) => {
              if (key === undefined) unpinnedRefused += 1;
              else if (stack.shards.ofString(key) === victim) refusedOnVictim += 1;
              else refusedOnLive.push(`${n}: ${status ?? ''} ${text}`);
            },
          );
          accepted.push(id);
        }
      }),
    );
    await supervisor;
    expect(killedAt).toBeGreaterThan(0);
    expect(new Set(accepted).size).toBe(TASKS);
    // The victim's shard did pause: its pinned submissions met 503s.
    expect(refusedOnVictim).toBeGreaterThan(0);
    expect(refusedOnLive).toEqual([]);
    const outage = await duringOutage;
    expect(outage?.status).toBe(200);
    expect(outage?.body.shards.map((s) => s.unavailable !== undefined)).toEqual(
      [0, 1, 2].map((shard) => shard === victim),
    );
    // The workers cannot be listed meanwhile: said, without failing the counts.
    expect(outage?.body.workers_unavailable).toEqual(expect.any(String));
    expect(outage?.body.workers).toEqual([]);

    const finished = await untilFinished(
      () => clusterClient(nodeList),
      (id) => stack.prefixOfTask(id),
      accepted,
      240_000,
    );
    recordScenario({
      scenario: 'redis master failover, 3 shards',
      load: `${TASKS} tasks (a quarter without a key), 1 API, 3 workers, Redis Cluster 3+3, REDIS_SHARDS=3`,
      faults: `shard ${victim}'s master SIGKILLed at ${(killedAt / 1000).toFixed(1)} s, replica master ${(promotedMs / 1000).toFixed(1)} s later; 503/409 retried: ${refusedOnVictim} pinned to it, ${refusedOnLive.length} pinned elsewhere, ${unpinnedRefused} of ${unpinned} without a key`,
      tasks: taskCounts(finished),
    });
    expect(finished.filter((t) => t.state !== 'completed')).toEqual([]);
    expect(unexplainedReruns(finished)).toEqual([]);
    const perShard = [0, 1, 2].map(
      (shard) => accepted.filter((id) => stack.shards.ofTask(id) === shard).length,
    );
    expect(perShard.every((count) => count > TASKS / 6)).toBe(true);
    expect((await owners())[victim].master).toBe(replica);
  }, 600_000);
});
