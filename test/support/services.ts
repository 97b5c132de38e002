// Helpers for e2e tests that need their own instance of a service, started and stopped
// through the project's own scripts (`npm run services`), exactly as a developer would.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const repoRoot = resolve(__dirname, '..', '..');

export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
export const ELASTICSEARCH_URL = process.env.ELASTICSEARCH_URL || 'http://127.0.0.1:9200';

export type ServiceName = 'redis' | 'elasticsearch';

const URL_VARIABLE: Record<ServiceName, string> = {
  redis: 'REDIS_URL',
  elasticsearch: 'ELASTICSEARCH_URL',
};

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** Runs one of the project's scripts (`scripts/<script>`) as npm would; its stdout, or throws. */
export function runScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): string {
  const result = spawnSync(process.execPath, [join(repoRoot, 'scripts', script), ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.status !== 0) {
    throw new Error(`${script} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

/** Runs `npm run services -- <command> <service>` with the service's URL set to `url`. */
export function services(command: 'up' | 'down', service: ServiceName, url: string): void {
  runScript('services.mts', [command, service], { [URL_VARIABLE[service]]: url });
}

/** The pid the scripts recorded for the instance of `service` on `port`, if any. */
export function recordedPid(service: ServiceName, port: number): number | undefined {
  try {
    const record = JSON.parse(
      readFileSync(join(repoRoot, '.services', `${service}-${port}.json`), 'utf8'),
    ) as { pid: number };
    return record.pid;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Polls `probe` until it holds. Used to wait for a state change (a service going away or
 * coming back), never to assert on how long it took; `limitMs` only bounds a hung test.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  limitMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(200);
  }
  throw new Error(`gave up waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}
