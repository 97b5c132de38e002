// Elasticsearch as a cluster of three nodes, ELASTICSEARCH_URL listing all three: while clients
// submit tasks at a steady rate, one node is killed (SIGKILL, one JVM of three). Shipping goes on
// to the other two, every task completes, and every line the API and the worker wrote is in
// Elasticsearch once. First a node that is not the elected master and holds a copy of the log
// data stream's shard; then, with that node back, the master itself.
//
// The killed node is listed first in ELASTICSEARCH_URL, where every client starts: a client that
// used only the first node, or kept sending to a dead one, would leave lines behind.
import { Client } from '@elastic/elasticsearch';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  restartNode,
  startCluster,
  stopCluster,
  type ClusterNode,
  type ElasticsearchCluster,
} from '../support/es-cluster';
import { LogStreams } from '../../src/config/data-streams';
import { eventually, freePort, isAlive, repoRoot } from '../support/services';
import { TestStack, type Task } from '../support/stack';
import {
  accountLines,
  expectEveryLineOnce,
  recordScenario,
  taskCounts,
  untilFinished,
} from '../chaos/chaos';

const STREAM = 'logs-threadline-cluster';
const NODES = 3;
const TASKS = 300;
/** Submits before the kill; the rest come after it. */
const KILL_AFTER = 100;
const RATE = 50; // submits per second

interface ShardCopy {
  prirep: string;
  state: string;
  node: string | null;
}

/** The warnings the stack's shippers wrote when a request to Elasticsearch failed. */
const shippingFailures = (stack: TestStack): string[] =>
  stack
    .logLines()
    .filter((line) => line['event.action'] === 'log-shipping-failed')
    .map((line) => String(line.message));

/** `count` distinct free ports. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

describe('Elasticsearch cluster of three nodes', () => {
  let cluster: ElasticsearchCluster | undefined;
  let stack: TestStack | undefined;

  /** A client of the nodes still running. */
  const clientOf = (nodes: ClusterNode[]): Client =>
    new Client({ node: nodes.map((n) => n.url), requestTimeout: 60_000 });

  beforeAll(async () => {
    const ports = await freePorts(2 * NODES);
    const httpPorts = ports.slice(0, NODES);
    cluster = startCluster({
      httpPorts,
      transportPorts: ports.slice(NODES),
      basePath: join(repoRoot, '.services', `elasticsearch-cluster-test-${httpPorts[0]}`),
      clusterName: 'threadline-cluster-test',
    });
    // `npm run es:setup` against the three nodes, then one line to create the data stream, so
    // that its shard's copies are placed before a node is chosen to be killed.
    const setup = spawnSync(process.execPath, [join(repoRoot, 'dist', 'es-setup.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        ELASTICSEARCH_URL: cluster.nodes.map((n) => n.url).join(','),
        LOG_DATA_STREAM: STREAM,
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(setup.stderr).toBe('');
    expect(setup.status).toBe(0);
    const client = clientOf(cluster.nodes);
    await client.index({
      index: STREAM,
      op_type: 'create',
      document: { '@timestamp': new Date().toISOString(), message: 'creates the data stream' },
    });
    await client.close();
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    if (cluster) stopCluster(cluster);
  }, 120_000);

  /** Where the data stream's shard copies are, once both are started (green). */
  async function placement(client: Client): Promise<{ primary: string; replica: string }> {
    const health = await client.cluster.health({
      index: STREAM,
      wait_for_status: 'green',
      wait_for_nodes: NODES,
      wait_for_no_initializing_shards: true,
      timeout: '60s',
    });
    expect(health).toMatchObject({ number_of_nodes: NODES, status: 'green', timed_out: false });
    const copies = (await client.cat.shards({ index: STREAM, format: 'json' })) as ShardCopy[];
    const primary = copies.find((c) => c.prirep === 'p' && c.state === 'STARTED')?.node;
    const replica = copies.find((c) => c.prirep === 'r' && c.state === 'STARTED')?.node;
    expect({ copies: copies.length, primary: !!primary, replica: !!replica }).toEqual({
      copies: 2,
      primary: true,
      replica: true,
    });
    expect(primary).not.toBe(replica);
    const settings = await client.indices.getSettings({ index: STREAM });
    const replicas = Object.values(settings).map((s) => s.settings?.index?.number_of_replicas);
    expect(replicas).toEqual(['1']);
    return { primary: primary ?? '', replica: replica ?? '' };
  }

  /**
   * Waits until the API's and the worker's streams each have their replica started. They are
   * made at their first shipped line, after placement() looked: killing a node before a new
   * stream's replica is up would lose the stream's only copy, which is not what the test is
   * about (and no cluster of two copies survives).
   */
  async function streamsReplicated(nodes: ClusterNode[]): Promise<void> {
    const client = clientOf(nodes);
    const streams = new LogStreams(STREAM);
    try {
      await eventually(async () => {
        const health = await client.cluster.health(
          {
            index: [streams.stream('api'), streams.stream('worker')],
            wait_for_status: 'green',
            wait_for_no_initializing_shards: true,
            timeout: '5s',
          },
          { ignore: [404, 408] },
        );
        return health.status === 'green' && !health.timed_out ? true : undefined;
      }, "the API's and the worker's streams to have their replicas");
    } finally {
      await client.close();
    }
  }

  /** Submits `count` tasks at RATE a second, one after another. */
  async function submit(to: TestStack, count: number, accepted: Task[]): Promise<void> {
    let next = performance.now();
    for (let i = 0; i < count; i++) {
      accepted.push(await to.submit('echo', { message: `cluster ${accepted.length}` }));
      next += 1000 / RATE;
      await sleep(Math.max(0, next - performance.now()));
    }
  }

  /**
   * Runs the load with the API and a worker shipping to all three nodes, kills `victim` part
   * way, and checks that every task finished and every line arrived once.
   */
  async function killUnderLoad(
    nodes: ClusterNode[],
    victim: ClusterNode,
    role: string,
  ): Promise<void> {
    const survivors = nodes.filter((n) => n !== victim);
    const running = new TestStack({
      ELASTICSEARCH_URL: [victim, ...survivors].map((n) => n.url).join(','),
      LOG_DATA_STREAM: STREAM,
      LOG_LEVEL: 'info',
    });
    stack = running;
    const since = new Date();
    await running.startApi();
    await running.startWorker();
    await eventually(
      () => Promise.resolve(running.allOutput().includes('es-template-installed') || undefined),
      'the API to install the index template',
    );

    const accepted: Task[] = [];
    const started = performance.now();
    await submit(running, KILL_AFTER, accepted);
    await streamsReplicated(nodes);
    const killedAt = performance.now() - started;
    const victimPid = victim.pid;
    process.kill(victimPid, 'SIGKILL');
    // Known dead from here on: nothing may signal that pid again (another process may get it).
    victim.pid = 0;
    const admin = clientOf(survivors);
    const leftAfterMs = admin.cluster
      .health({ wait_for_nodes: NODES - 1, timeout: '60s' })
      .then(() => performance.now() - started - killedAt);
    await submit(running, TASKS - KILL_AFTER, accepted);
    // The clients take the nodes in turn, and a busy shipper sends few, large requests: all of
    // them since the kill may have gone to a survivor. Go on until a shipper has met the dead
    // node, the case this test is about.
    await eventually(async () => {
      if (shippingFailures(running).length > 0) return true;
      await submit(running, 10, accepted);
      return undefined;
    }, 'a shipper to send to the dead node and fail over');
    const noticedMs = await leftAfterMs;
    await eventually(
      () => Promise.resolve(isAlive(victimPid) ? undefined : true),
      'the killed JVM to exit',
    );

    const finished = await untilFinished(
      running.env.REDIS_URL,
      (id) => running.prefixOfTask(id),
      accepted.map((t) => t.task_id),
    );
    const [firstSurvivor] = survivors;
    const lines = await accountLines(running.allProcesses(), since, firstSurvivor?.url, STREAM);
    const failures = shippingFailures(running);
    const health = await admin.cluster.health();
    await admin.close();
    await running.stop();
    stack = undefined;
    recordScenario({
      scenario: `Elasticsearch node lost: ${role}`,
      load: `${RATE} submits/s, API and 1 worker, ELASTICSEARCH_URL of ${NODES} nodes`,
      faults: `SIGKILL ${victim.name} after ${KILL_AFTER} of ${TASKS} submits (${(killedAt / 1000).toFixed(1)} s in); the cluster had ${NODES - 1} nodes ${Math.round(noticedMs)} ms later; ${failures.length} shipping warnings`,
      tasks: taskCounts(finished),
      lines: lines.counts,
    });

    expect(health.number_of_nodes).toBe(NODES - 1);
    expect(taskCounts(finished).lost).toBe(0);
    expectEveryLineOnce(lines);
    // The shippers did meet the dead node (else this test would prove nothing), and got past it.
    expect(failures).not.toEqual([]);
  }

  it('loses no line when a node that is not the master dies', async () => {
    const nodes = cluster?.nodes ?? [];
    const client = clientOf(nodes);
    const { primary, replica } = await placement(client);
    const [master] = await client.cat.master({ format: 'json' });
    await client.close();
    // A node with a copy of the shard: the primary's, unless the master holds the primary.
    const name = primary === master?.node ? replica : primary;
    const victim = nodes.find((n) => n.name === name);
    expect(victim?.name).toBeDefined();
    expect(victim?.name).not.toBe(master?.node);
    if (!victim) return;
    const copy = name === primary ? 'primary' : 'replica';
    await killUnderLoad(nodes, victim, `${name}, not the master, held the ${copy}`);
  }, 300_000);

  it('loses no line when the elected master dies', async () => {
    if (!cluster) throw new Error('the cluster did not start');
    const down = cluster.nodes.find((n) => n.pid === 0);
    if (down) Object.assign(down, restartNode(cluster, down.name));
    const client = clientOf(cluster.nodes);
    await placement(client);
    const [master] = await client.cat.master({ format: 'json' });
    await client.close();
    const victim = cluster.nodes.find((n) => n.name === master?.node);
    expect(victim?.name).toBeDefined();
    if (!victim) return;
    await killUnderLoad(cluster.nodes, victim, `${victim.name}, the elected master`);
  }, 300_000);
});
