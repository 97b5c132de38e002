// A local Redis Cluster (three masters, a replica each) for e2e tests, started and stopped
// through the project's own script (`npm run redis-cluster`), as a developer would.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { eventually, repoRoot } from './services';

export interface TestRedisCluster {
  /** REDIS_CLUSTER_NODES for processes that should use it. */
  nodeList: string;
  nodes: { port: number; pid: number }[];
}

/** Where a test file's cluster listens: 6 ports from here. Each file takes its own. */
export const clusterNodeList = (firstPort: number): string =>
  Array.from({ length: 6 }, (_, i) => `127.0.0.1:${firstPort + i}`).join(',');

function script(args: string[]): string {
  const result = spawnSync(
    process.execPath,
    [join(repoRoot, 'scripts', 'redis-cluster.mts'), ...args],
    { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (result.status !== 0) {
    throw new Error(`redis-cluster ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

/** Starts a new, empty cluster on `firstPort`…`firstPort + 5`. */
export function startRedisCluster(firstPort: number): TestRedisCluster {
  const out = script(['up', '--first-port', String(firstPort), '--json']);
  const json = out.split('\n').find((line) => line.startsWith('{'));
  if (!json) throw new Error(`redis-cluster up printed no JSON:\n${out}`);
  return JSON.parse(json) as TestRedisCluster;
}

export function stopRedisCluster(firstPort: number): void {
  script(['down', '--first-port', String(firstPort)]);
}

/** A cluster client, as Threadline makes one. */
export function clusterClient(nodeList: string): Cluster {
  const client = new Cluster(
    nodeList.split(',').map((node) => {
      const [host, port] = node.split(':');
      return { host, port: Number(port) };
    }),
    { retryDelayOnClusterDown: 300, retryDelayOnFailover: 300 },
  );
  client.on('error', () => undefined);
  return client;
}

/** The master serving `key`'s slot, and its replicas: ports, as CLUSTER SHARDS reports them. */
export async function slotOwner(
  nodeList: string,
  key: string,
): Promise<{ master: number; replicas: number[] }> {
  const client = clusterClient(nodeList);
  try {
    const slot = Number(await client.call('CLUSTER', 'KEYSLOT', key));
    const slots = (await client.call('CLUSTER', 'SLOTS')) as [
      number,
      number,
      ...[string, number][],
    ][];
    const range = slots.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`no node serves slot ${slot}`);
    const [, , master, ...replicas] = range;
    return { master: master[1], replicas: replicas.map((r) => r[1]) };
  } finally {
    client.disconnect();
  }
}

/** Waits until the node on `port` is a master (a replica promoted by a failover). */
export async function untilMaster(port: number, limitMs = 30_000): Promise<void> {
  const node = new Redis({ port, host: '127.0.0.1', retryStrategy: () => 200 });
  node.on('error', () => undefined);
  try {
    await eventually(
      async () => ((await node.info('replication')).includes('role:master') ? true : undefined),
      `the replica on ${port} to become master`,
      limitMs,
    );
  } finally {
    node.disconnect();
  }
}

/** Starts a stopped node again, as a supervisor would; it rejoins as a replica if failed over. */
export function restartClusterNode(firstPort: number, port: number): { pid: number } {
  const out = script(['restart', String(port), '--first-port', String(firstPort), '--json']);
  const json = out.split('\n').find((line) => line.startsWith('{'));
  if (!json) throw new Error(`redis-cluster restart printed no JSON:\n${out}`);
  return JSON.parse(json) as { pid: number };
}
