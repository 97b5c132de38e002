// A local Redis Cluster (three masters, a replica each) for e2e tests, started and stopped
// through the project's own script (`npm run redis-cluster`), as a developer would.
import { Cluster, Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
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

/**
 * SIGKILLs a cluster's master and, as a supervisor would, starts it again once `replica` has
 * taken over: it rejoins as the new master's replica, and writes are confirmed
 * (REDIS_WAIT_REPLICAS=1) again. Resolves then, with how long the promotion took in ms.
 */
export async function killMaster(
  firstPort: number,
  master: { port: number; pid: number },
  replica: number,
): Promise<number> {
  const killed = Date.now();
  process.kill(master.pid, 'SIGKILL');
  await untilMaster(replica);
  const promotedMs = Date.now() - killed;
  restartClusterNode(firstPort, master.port);
  return promotedMs;
}

/**
 * Submits `body` as a client the docs describe: a 503 (Redis unavailable) or a 409 (a failed
 * attempt's claim on the key still held) is retried after Retry-After, with the same key;
 * `refused` hears of each. Answers the task id.
 * @throws on any other answer, with `explain()` (what the APIs logged, say)
 */
export async function submitRetrying(
  urlOf: (attempt: number) => string,
  body: unknown,
  key: string | undefined,
  refused: (status: number | undefined, text: string) => void,
  explain: () => string = () => '',
): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`${urlOf(attempt)}/api/v1/tasks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(key === undefined ? {} : { 'Idempotency-Key': key }),
      },
      body: JSON.stringify(body),
    }).catch(() => undefined);
    if (response?.status === 202) return ((await response.json()) as { task_id: string }).task_id;
    const text = (await response?.text()) ?? 'no answer';
    if (response && response.status !== 503 && response.status !== 409) {
      throw new Error(`submit: ${response.status} ${text}\n${explain()}`);
    }
    refused(response?.status, text);
    await sleep(Number(response?.headers.get('retry-after') ?? '1') * 1000);
  }
}
