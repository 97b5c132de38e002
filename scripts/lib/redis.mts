import { Redis } from 'ioredis';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDebianPackage } from './debian.mts';
import { servicesDir } from './paths.mts';
import { isAlive, spawnDetached, tail, waitUntil } from './processes.mts';
import { say, ScriptError } from './say.mts';
import type { LocalService } from './service.mts';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

async function ping(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * Debian's redis-server, configured for a queue: append-only file on (a crash loses at most
 * one second of writes) and `noeviction` (Redis refuses writes rather than silently dropping
 * queued jobs when memory is full).
 */
export const redis: LocalService = {
  name: 'redis',
  urlVariable: 'REDIS_URL',
  url: () => process.env.REDIS_URL || DEFAULT_REDIS_URL,
  answers: ping,
  async start(url) {
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
