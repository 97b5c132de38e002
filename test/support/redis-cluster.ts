// A local Redis Cluster (three masters, a replica each) for e2e tests, started and stopped
// through the project's own script (`npm run redis-cluster`), as a developer would.
import { Cluster, Redis } from 'ioredis';
import { loadConfig } from '../../src/config/load-config';
import { createRedisClient } from '../../src/redis/redis-client';
import { eventually, runScript } from './services';

export interface TestRedisCluster {
  /** REDIS_CLUSTER_NODES for processes that should use it. */
  nodeList: string;
  nodes: { port: number; pid: number }[];
}

/** Where a test file's cluster listens: 6 ports from here. Each file takes its own. */
export const clusterNodeList = (firstPort: number): string =>
  Array.from({ length: 6 }, (_, i) => `127.0.0.1:${firstPort + i}`).join(',');

const script = (args: string[]): string => runScript('redis-cluster.mts', args);

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

/** A cluster client, made as Threadline makes one (createRedisClient). */
export function clusterClient(nodeList: string): Cluster {
  const client = createRedisClient(loadConfig({ REDIS_CLUSTER_NODES: nodeList }), {
    connectionName: 'threadline-test',
  });
  if (!(client instanceof Cluster)) throw new Error('REDIS_CLUSTER_NODES made no cluster client');
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
