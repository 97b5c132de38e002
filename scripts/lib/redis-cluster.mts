import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { probeRedis } from './redis-probe.mts';
import { ensureDebianPackage } from './debian.mts';
import { servicesDir } from './paths.mts';
import { isAlive, spawnDetached, stopProcess, tail, waitUntil } from './processes.mts';
import { say, ScriptError } from './say.mts';

/** One redis-server of a local cluster. */
export interface ClusterNode {
  port: number;
  pid: number;
  logFile: string;
}

/** A local Redis Cluster: `masters` masters with `replicas` replica(s) each, on loopback. */
export interface LocalRedisCluster {
  nodes: ClusterNode[];
  /** The value of REDIS_CLUSTER_NODES that reaches it. */
  nodeList: string;
}

export interface RedisClusterOptions {
  /** Port of the first node; the others follow it. Default 7100. */
  firstPort?: number;
  masters?: number;
  replicas?: number;
  /**
   * How long a master may be unreachable before its replica takes over (cluster-node-timeout).
   * Default 2000 ms: failovers in seconds, for tests; production clusters use 5-15 s.
   */
  nodeTimeoutMs?: number;
}

const recordFile = (firstPort: number): string =>
  join(servicesDir, `redis-cluster-${firstPort}.json`);

/** Runs `command` on the node on `port`; undefined if it does not answer. */
function onNode<T>(port: number, command: (node: Redis) => Promise<T>): Promise<T | undefined> {
  return probeRedis(`redis://127.0.0.1:${port}`, command);
}

async function clusterInfo(port: number): Promise<Record<string, string>> {
  const text = await onNode(port, (node) => node.call('CLUSTER', 'INFO') as Promise<string>);
  if (text === undefined) return {};
  return Object.fromEntries(text.split(/\r?\n/).map((line) => line.split(':') as [string, string]));
}

/**
 * Starts Debian's redis-server in cluster mode on `firstPort`… and joins the nodes with
 * `redis-cli --cluster create`, each node with AOF on. Any earlier cluster on those ports,
 * started by this script, is stopped and its data removed first: every start is a new cluster.
 * @see https://redis.io/docs/latest/operate/oss_and_stack/management/scaling/
 */
export async function startRedisCluster(
  options: RedisClusterOptions = {},
): Promise<LocalRedisCluster> {
  const firstPort = options.firstPort ?? 7100;
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 1;
  const nodeTimeout = options.nodeTimeoutMs ?? 2000;
  ensureDebianPackage('redis-server', 'redis-server');
  ensureDebianPackage('redis-cli', 'redis-tools');
  await stopRedisCluster(firstPort);
  const ports = Array.from({ length: masters * (1 + replicas) }, (_, i) => firstPort + i);
  const nodes: ClusterNode[] = [];
  for (const port of ports) {
    const dir = nodeDir(firstPort, port);
    rmSync(dir, { recursive: true, force: true });
    nodes.push(spawnNode(firstPort, port, nodeTimeout));
  }
  writeFileSync(recordFile(firstPort), `${JSON.stringify(nodes, null, 2)}\n`);
  writeFileSync(timeoutFile(firstPort), String(nodeTimeout));
  say(
    'redis-cluster',
    `starting ${nodes.length} redis-server nodes on ports ${ports[0]}-${ports.at(-1)}`,
  );
  for (const node of nodes) {
    const up = await waitUntil(
      async () => (await clusterInfo(node.port)).cluster_state !== undefined,
      {
        topic: 'redis-cluster',
        timeoutMs: 15_000,
        abortIf: () =>
          isAlive(node.pid) ? undefined : `redis-server exited:\n${tail(node.logFile)}`,
      },
    );
    if (!up)
      throw new ScriptError(
        'redis-cluster',
        `node ${node.port} did not answer`,
        `see ${node.logFile}`,
      );
  }
  const create = spawnSync(
    'redis-cli',
    ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`)].concat([
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]),
    { encoding: 'utf8' },
  );
  if (create.status !== 0) {
    throw new ScriptError(
      'redis-cluster',
      `redis-cli --cluster create failed:\n${create.stdout}\n${create.stderr}`,
    );
  }
  // Every node sees every slot served, and every master has its replicas attached.
  const ready = await waitUntil(
    async () => {
      const infos = await Promise.all(ports.map(clusterInfo));
      return infos.every(
        (info) => info.cluster_state === 'ok' && info.cluster_slots_ok === '16384',
      );
    },
    { topic: 'redis-cluster', timeoutMs: 30_000 },
  );
  if (!ready)
    throw new ScriptError('redis-cluster', 'the cluster did not reach state ok within 30 s');
  await waitUntil(async () => (await replicasAttached(ports)) === masters * replicas, {
    topic: 'redis-cluster',
    timeoutMs: 30_000,
  });
  const nodeList = ports.map((p) => `127.0.0.1:${p}`).join(',');
  say('redis-cluster', `up: REDIS_CLUSTER_NODES=${nodeList}`);
  return { nodes, nodeList };
}

const nodeDir = (firstPort: number, port: number): string =>
  join(servicesDir, `redis-cluster-${firstPort}`, String(port));

/** Starts one node of the cluster on `firstPort`, on its data (nodes.conf, AOF) if it has any. */
function spawnNode(firstPort: number, port: number, nodeTimeout: number): ClusterNode {
  const dir = nodeDir(firstPort, port);
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, 'redis.log');
  const pid = spawnDetached(
    'redis-server',
    [
      ...['--bind', '127.0.0.1', '--port', String(port), '--dir', dir],
      ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
      ...['--cluster-node-timeout', String(nodeTimeout)],
      ...['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''],
      // A master has one replica to sync at a time: Redis's default 5 s wait for more
      // replicas to share a diskless sync only delays each one attaching (at start, and
      // when a node that was failed over comes back as a replica).
      ...['--repl-diskless-sync-delay', '0'],
      ...['--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--logfile', ''],
    ],
    logFile,
  );
  return { port, pid, logFile };
}

/**
 * Starts again a node of the cluster on `firstPort` that stopped (as a supervisor would
 * restart a crashed process): it rejoins from its nodes.conf, a replica if it was failed over.
 */
export async function restartClusterNode(firstPort: number, port: number): Promise<ClusterNode> {
  const nodes = JSON.parse(readFileSync(recordFile(firstPort), 'utf8')) as ClusterNode[];
  const old = nodes.find((n) => n.port === port);
  if (!old) throw new ScriptError('redis-cluster', `no node on port ${port} in this cluster`);
  if (isAlive(old.pid)) await stopProcess(old.pid, 5_000);
  const node = spawnNode(firstPort, port, Number(readFileSync(timeoutFile(firstPort), 'utf8')));
  writeFileSync(
    recordFile(firstPort),
    `${JSON.stringify(
      nodes.map((n) => (n.port === port ? node : n)),
      null,
      2,
    )}\n`,
  );
  await waitUntil(async () => (await clusterInfo(port)).cluster_state !== undefined, {
    topic: 'redis-cluster',
    timeoutMs: 15_000,
    abortIf: () => (isAlive(node.pid) ? undefined : `redis-server exited:\n${tail(node.logFile)}`),
  });
  say('redis-cluster', `restarted the node on ${port} (pid ${node.pid})`);
  return node;
}

const timeoutFile = (firstPort: number): string =>
  join(servicesDir, `redis-cluster-${firstPort}`, 'node-timeout');

/** Replicas linked to their master and in sync, across the cluster. */
async function replicasAttached(ports: number[]): Promise<number> {
  const infos = await Promise.all(
    ports.map((port) => onNode(port, (node) => node.info('replication'))),
  );
  return infos.filter(
    (info) => info && /role:slave/.test(info) && /master_link_status:up/.test(info),
  ).length;
}

/** Stops the cluster this script started on `firstPort`, if any, and removes its data. */
export async function stopRedisCluster(firstPort = 7100): Promise<void> {
  let nodes: ClusterNode[];
  try {
    nodes = JSON.parse(readFileSync(recordFile(firstPort), 'utf8')) as ClusterNode[];
  } catch {
    return;
  }
  await Promise.all(nodes.filter((n) => isAlive(n.pid)).map((n) => stopProcess(n.pid, 5_000)));
  rmSync(join(servicesDir, `redis-cluster-${firstPort}`), { recursive: true, force: true });
  rmSync(recordFile(firstPort), { force: true });
  say('redis-cluster', `stopped the cluster on ports from ${firstPort}`);
}
