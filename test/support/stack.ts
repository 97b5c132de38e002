// A Threadline stack for one test file: the real API and worker processes from dist/, on a
// Redis key prefix of their own so that files never see each other's queues.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { shardPrefixes, Shards } from '../../src/config/shards';
import { ELASTICSEARCH_URL, REDIS_URL, eventually, freePort, repoRoot } from './services';

export interface RunningProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Everything written to stdout so far (a pipe may have delivered half a line last). */
  stdout(): string;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  readonly exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
}

function launch(entry: string, env: Record<string, string>, root = repoRoot): RunningProcess {
  const child = spawn(process.execPath, [join(root, 'dist', entry)], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    output += text;
    stdout += text;
  });
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return {
    child,
    pid: child.pid ?? -1,
    output: () => output,
    stdout: () => stdout,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

export interface Task {
  task_id: string;
  type: string;
  queue: string;
  priority: number;
  status: string;
  progress: number;
  attempts: number;
  max_attempts: number;
  result?: unknown;
  error?: { type: string; message: string };
  created_at: string;
  started_at?: string;
  finished_at?: string;
  parent_id?: string;
  correlation_id?: string;
  links: { self: string };
}

export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** The data stream e2e tests ship their log lines to. */
export const TEST_DATA_STREAM = 'logs-threadline-test';

export class TestStack {
  readonly prefix = `tl-test-${randomUUID().slice(0, 8)}`;
  readonly env: Record<string, string>;
  /** This stack's log spool: its processes' lines on their way to Elasticsearch. */
  readonly spoolDir = mkdtempSync(join(tmpdir(), 'threadline-spool-'));
  /** The API started last; `baseUrl` is its address. */
  api: RunningProcess | undefined;
  baseUrl = '';
  /** Every API process started, the earlier ones too (several may run at once). */
  readonly apis: { process: RunningProcess; url: string }[] = [];
  private readonly workers: RunningProcess[] = [];
  /** Every process started, for its log lines (stopped ones included). */
  private readonly started: RunningProcess[] = [];

  /** The prefix of the unsharded layout's keys: REDIS_PREFIX, in braces on a cluster. */
  get keyPrefix(): string {
    return this.env.REDIS_CLUSTER_NODES ? `{${this.prefix}}` : this.prefix;
  }

  /** The stack's shards (REDIS_SHARDS of its environment), as the API and workers place keys. */
  get shards(): Shards {
    return this.shardsOf({});
  }

  /** The shards of processes started with `env` over the stack's own. */
  shardsOf(env: Record<string, string>): Shards {
    const count = Number(env.REDIS_SHARDS ?? this.env.REDIS_SHARDS ?? '1');
    return new Shards(shardPrefixes(this.keyPrefix, count));
  }

  /** The key prefix of task `id`'s shard. */
  prefixOfTask(id: string): string {
    return this.shards.prefixOfTask(id);
  }

  /** Where the record of Idempotency-Key `key` is (its shard's prefix; hashed as the API does). */
  idempotencyRecordKey(key: string): string {
    const { shards } = this;
    const hash = createHash('sha256').update(key).digest('hex');
    return `${shards.prefixes[shards.ofString(key)]}:idempotency:${hash}`;
  }

  /** `root`: the project whose build (`dist/`) runs; the repository unless a test built another. */
  constructor(
    env: Record<string, string> = {},
    private readonly root = repoRoot,
  ) {
    this.env = {
      REDIS_URL,
      ELASTICSEARCH_URL,
      REDIS_PREFIX: this.prefix,
      LOG_LEVEL: 'warn',
      // Every test stack ships to one data stream (the embedded node cannot delete data
      // streams); tests find their lines by their own IDs.
      LOG_DATA_STREAM: TEST_DATA_STREAM,
      LOG_SPOOL_DIR: this.spoolDir,
      // A whole suite can run sharded: REDIS_SHARDS=3 npm test.
      ...(process.env.REDIS_SHARDS ? { REDIS_SHARDS: process.env.REDIS_SHARDS } : {}),
      ...env,
    };
  }

  /** Starts an API process and waits until it answers /health; returns its address. */
  async startApi(env: Record<string, string> = {}): Promise<string> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    this.baseUrl = url;
    const api = launch('main.js', { ...this.env, PORT: String(port), ...env }, this.root);
    this.api = api;
    this.apis.push({ process: api, url });
    this.started.push(api);
    await eventually(async () => {
      if (api.child.exitCode !== null) throw new Error(`API exited:\n${api.output()}`);
      const response = await fetch(`${url}/health`);
      return response.ok ? true : undefined;
    }, 'the API to answer /health');
    return url;
  }

  /** Starts a worker process without waiting for it (for one that may crash at once). */
  launchWorker(env: Record<string, string> = {}): RunningProcess {
    const worker = launch('worker.js', { ...this.env, LOG_LEVEL: 'info', ...env }, this.root);
    this.workers.push(worker);
    this.started.push(worker);
    return worker;
  }

  /** Starts a worker process and waits until it has started its task loop. */
  async startWorker(env: Record<string, string> = {}): Promise<RunningProcess> {
    const worker = this.launchWorker(env);
    await eventually(() => {
      if (worker.child.exitCode !== null) throw new Error(`worker exited:\n${worker.output()}`);
      return Promise.resolve(worker.output().includes('taking tasks from') ? true : undefined);
    }, 'the worker to start');
    return worker;
  }

  /** Every JSON line written so far by this stack's processes, parsed. */
  logLines(): Record<string, unknown>[] {
    return this.started.flatMap((p) => {
      const text = p.stdout();
      // Whole lines only: the last one may still be on its way through the pipe.
      return text
        .slice(0, text.lastIndexOf('\n') + 1)
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    });
  }

  /** Every process this stack started, stopped ones included. */
  allProcesses(): RunningProcess[] {
    return [...this.started];
  }

  /** Everything this stack's processes wrote, as text. */
  allOutput(): string {
    return this.started.map((p) => p.output()).join('\n');
  }

  private async terminate(processes: RunningProcess[]): Promise<void> {
    for (const p of processes) p.kill('SIGTERM');
    await Promise.all(
      processes.map(async (p) => {
        const timer = setTimeout(() => p.kill('SIGKILL'), 15_000);
        await p.exited;
        clearTimeout(timer);
      }),
    );
  }

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: the caller reads `text`.
    }
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  }

  /** Submits a task and returns the 202 body; fails the test on any other answer. */
  async submit(type: string, data: unknown, extra: Record<string, unknown> = {}): Promise<Task> {
    const reply = await this.request<Task>('POST', '/api/v1/tasks', { type, data, ...extra });
    if (reply.status !== 202) throw new Error(`submit answered ${reply.status}: ${reply.text}`);
    return reply.body;
  }

  async task(id: string): Promise<Task> {
    const reply = await this.request<Task>('GET', `/api/v1/tasks/${id}`);
    if (reply.status !== 200) throw new Error(`GET task answered ${reply.status}: ${reply.text}`);
    return reply.body;
  }

  /** Waits until the task reaches one of `statuses`, and returns it. */
  async until(id: string, statuses: string[], limitMs = 60_000): Promise<Task> {
    return eventually(
      async () => {
        const task = await this.task(id);
        return statuses.includes(task.status) ? task : undefined;
      },
      `task ${id} to become ${statuses.join(' or ')}`,
      limitMs,
    );
  }

  /** Stops the workers started so far (SIGTERM, then SIGKILL after 15 s). */
  async stopWorkers(): Promise<void> {
    await this.terminate(this.workers.splice(0));
  }

  /** Stops the API processes started so far. */
  async stopApis(): Promise<void> {
    await this.terminate(this.apis.splice(0).map((a) => a.process));
  }

  /** Stops every process and deletes this stack's Redis keys. */
  async stop(): Promise<void> {
    await this.terminate([...this.workers.splice(0), ...this.apis.splice(0).map((a) => a.process)]);
    // A cluster's keys go with the cluster: its test stops it.
    if (this.env.REDIS_CLUSTER_NODES) {
      rmSync(this.spoolDir, { recursive: true, force: true });
      return;
    }
    const redis = new Redis(this.env.REDIS_URL);
    // The unsharded layout's keys, and those of every shard ({prefix:i}).
    for (const pattern of [`${this.prefix}:*`, `{${this.prefix}:*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
    await redis.quit();
    rmSync(this.spoolDir, { recursive: true, force: true });
  }
}
