import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDebianPackage } from './debian.mts';
import { servicesDir } from './paths.mts';
import { isAlive, spawnDetached, tail, waitUntil } from './processes.mts';
import { say, ScriptError } from './say.mts';
import { startRedisCluster } from './redis-cluster.mts';
import { probeRedis } from './redis-probe.mts';
import { listedUrls, type LocalService, type StartedInstance } from './service.mts';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

async function ping(url: string): Promise<boolean> {
  return (await probeRedis(url, (client) => client.ping())) === 'PONG';
}

/** REDIS_CLUSTER_NODES as redis:// URLs separated by commas, when it is set. */
function clusterUrls(): string | undefined {
  const nodes = listedUrls(process.env.REDIS_CLUSTER_NODES ?? '');
  if (nodes.length === 0) return undefined;
  return nodes.map((node) => (/^[a-z]+:\/\//.test(node) ? node : `redis://${node}`)).join(',');
}

/** A cluster answers when one of its listed nodes says its state is ok. */
async function clusterAnswers(urls: string[]): Promise<boolean> {
  for (const url of urls) {
    const info = await probeRedis(url, (client) => client.call('CLUSTER', 'INFO'));
    if (String(info).includes('cluster_state:ok')) return true;
  }
  return false;
}

/**
 * Starts a local Redis Cluster (three masters, a replica each) from the first port listed in
 * REDIS_CLUSTER_NODES, as npm run redis-cluster does.
 */
async function startCluster(urls: string[]): Promise<StartedInstance> {
  const firstPort = Math.min(...urls.map((url) => Number(new URL(url).port || 6379)));
  const cluster = await startRedisCluster({ firstPort });
  const [first] = cluster.nodes;
  if (!first) throw new ScriptError('redis', 'the local cluster has no node');
  return {
    pid: first.pid,
    logFile: first.logFile,
    nodes: cluster.nodes.map((node) => ({
      url: `redis://127.0.0.1:${node.port}`,
      pid: node.pid,
      logFile: node.logFile,
    })),
  };
}

/**
 * Debian's redis-server, configured for a queue: append-only file on (a crash loses at most
 * one second of writes) and `noeviction` (Redis refuses writes rather than silently dropping
 * queued jobs when memory is full).
 *
 * With REDIS_CLUSTER_NODES set, a Redis Cluster: a local 3 + 3 one is started when none answers.
 */
export const redis: LocalService = {
  name: 'redis',
  get urlVariable() {
    return clusterUrls() ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL';
  },
  url: () => clusterUrls() ?? (process.env.REDIS_URL || DEFAULT_REDIS_URL),
  answers: (url) => (url.includes(',') ? clusterAnswers(listedUrls(url)) : ping(url)),
  async start(url) {
    if (url.includes(',')) return startCluster(listedUrls(url));
    const { hostname, port, password } = new URL(url);
    ensureDebianPackage('redis-server', 'redis-server');
    const listen = port || '6379';
    const dataDir = join(servicesDir, `redis-${listen}`);
    const logFile = join(servicesDir, `redis-${listen}.log`);
    mkdirSync(dataDir, { recursive: true });
    const args = [
      '--bind',
      hostname === 'localhost' ? '127.0.0.1' : hostname.replace(/^\[|\]$/g, ''),
      '--port',
      listen,
      '--dir',
      dataDir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--maxmemory-policy',
      'noeviction',
      '--save',
      '',
      '--daemonize',
      'no',
      '--logfile',
      '',
    ];
    if (password) args.push('--requirepass', decodeURIComponent(password));
    const pid = spawnDetached('redis-server', args, logFile);
    say('redis', `starting redis-server on ${hostname}:${listen} (data in ${dataDir})`);
    const up = await waitUntil(() => ping(url), {
      topic: 'redis',
      timeoutMs: 15_000,
      abortIf: () => (isAlive(pid) ? undefined : `redis-server exited:\n${tail(logFile)}`),
    });
    if (!up) {
      throw new ScriptError(
        'redis',
        `redis-server did not answer within 15 s:\n${tail(logFile)}`,
        `see ${logFile}`,
      );
    }
    return { pid, logFile };
  },
};
