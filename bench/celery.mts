// The stack Threadline replaces, as a benchmark peer: FastAPI under uvicorn handing tasks to
// Celery with apply_async, and a Celery worker, on the same Redis. The Python packages are
// pinned in bench/peers/celery/requirements.txt and installed here, from PyPI, into a venv
// beside it (once; again when the requirements change).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { log, spawnLogged, type Spawned } from './processes.mts';

const here = resolve(import.meta.dirname, 'peers', 'celery');
const venv = join(here, '.venv');
const bin = (name: string): string => join(venv, 'bin', name);

/** The Redis database the Python stack uses: the same server, flushed between runs. */
const CELERY_DB = 15;

export function celeryRedisUrl(redisUrl: string): string {
  const url = new URL(redisUrl);
  url.pathname = `/${CELERY_DB}`;
  return url.toString();
}

/** Creates the venv and installs the pinned packages, unless that was done for this file. */
export function installPythonPeers(): void {
  const requirements = join(here, 'requirements.txt');
  const digest = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  const stamp = join(venv, 'requirements.sha256');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return;
  log(
    'installing the Python peers (FastAPI, uvicorn, Celery) from PyPI into bench/peers/celery/.venv',
  );
  const steps: [string, string[]][] = [
    ['python3', ['-m', 'venv', '--clear', venv]],
    [bin('pip'), ['install', '--disable-pip-version-check', '-r', requirements]],
  ];
  for (const [command, args] of steps) {
    const result = spawnSync(command, args, { stdio: ['ignore', 2, 2] });
    if (result.status !== 0) {
      throw new Error(
        `${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}): the Celery peers need Python 3.9+ with venv and pip (Debian: apt-get install python3-venv) and PyPI in reach`,
      );
    }
  }
  writeFileSync(stamp, digest);
}

export class PythonStack {
  private readonly redis: Redis;
  private readonly env: NodeJS.ProcessEnv;

  private constructor(redis: Redis, env: NodeJS.ProcessEnv) {
    this.redis = redis;
    this.env = env;
  }

  static open(redisUrl: string): PythonStack {
    const url = celeryRedisUrl(redisUrl);
    return new PythonStack(new Redis(url), { ...process.env, CELERY_REDIS_URL: url });
  }

  /** A Celery worker on the three queues: prefork with `processes` pool processes. */
  worker(processes: number): Spawned {
    return spawnLogged(
      bin('celery'),
      [
        '-A',
        'seed_tasks',
        'worker',
        '-Q',
        'high,medium,low',
        '-c',
        String(processes),
        '-l',
        'INFO',
      ],
      { cwd: here, env: this.env },
    );
  }

  /**
   * FastAPI under uvicorn with `processes` worker processes on one port; each prints
   * "Application startup complete." when it serves. No access log: the app logs each submit.
   */
  api(port: number, processes: number): Spawned {
    return spawnLogged(
      bin('uvicorn'),
      [
        'seed_api:app',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--workers',
        String(processes),
        '--log-level',
        'info',
        '--no-access-log',
      ],
      { cwd: here, env: this.env },
    );
  }

  /** Queues `count` echo tasks on the medium queue, as the drain benchmark's starting point. */
  enqueue(count: number): void {
    const result = spawnSync(bin('python'), ['seed_enqueue.py', String(count)], {
      cwd: here,
      env: this.env,
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`seed_enqueue.py failed: ${result.stderr}`);
  }

  /** Resolves once `count` task results are stored. */
  async stored(count: number): Promise<void> {
    for (;;) {
      // Cheap first: results are the only keys that grow with the number of tasks.
      if ((await this.redis.dbsize()) >= count && (await this.results()) >= count) return;
      await sleep(50);
    }
  }

  /** When each task's body started and when its result was stored, epoch ms; undefined until stored. */
  async times(ids: string[]): Promise<({ started: number; completed: number } | undefined)[]> {
    const raw = await this.redis.mget(ids.map((id) => `celery-task-meta-${id}`));
    return raw.map((text) => {
      if (text === null) return undefined;
      const meta = JSON.parse(text) as {
        status: string;
        result: { started: number };
        date_done: string;
      };
      if (meta.status !== 'SUCCESS') throw new Error(`a Celery task ended ${meta.status}`);
      // Both to the millisecond, as BullMQ records its times.
      return {
        started: Math.floor(meta.result.started * 1000),
        completed: Date.parse(meta.date_done),
      };
    });
  }

  async flush(): Promise<void> {
    await this.redis.flushdb();
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }

  private async results(): Promise<number> {
    let found = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(
        cursor,
        'MATCH',
        'celery-task-meta-*',
        'COUNT',
        5000,
      );
      found += keys.length;
      cursor = next;
    } while (cursor !== '0');
    return found;
  }
}
