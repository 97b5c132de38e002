// npm run bench [-- --quick]: Threadline against its peers, side by side in one run.
//
//   submit: POST /api/v1/tasks (validation, idempotency off) vs a bare Express + queue.add
//   drain:  20,000 no-op tasks through one Threadline worker vs one plain BullMQ Worker
//
// Both sides run in the same session, alternating, several times; the medians and their
// ratio go to bench/RESULTS.md. Absolute numbers drift on shared machines; ratios hold better.
import autocannon from 'autocannon';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const root = resolve(import.meta.dirname, '..');
const quick = process.argv.includes('--quick');
const REPETITIONS = quick ? 1 : 3;
const DRAIN_TASKS = quick ? 2_000 : 20_000;
const SUBMIT_SECONDS = quick ? 3 : 10;
const CONNECTIONS = 2 * cpus().length;
const WORKER_CONCURRENCY = 8;
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

interface Side {
  name: string;
  start(port: number, prefix: string): ChildProcess;
}

function node(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, REDIS_URL, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Resolves once the child prints `marker` (or rejects if it exits first). */
function printed(child: ChildProcess, marker: string): Promise<void> {
  return new Promise((ready, fail) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes(marker)) ready();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      fail(new Error(`exited with ${code} before "${marker}":\n${output}`)),
    );
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
}

async function clean(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
}

// ---------------------------------------------------------------- submit

const submitSides: Side[] = [
  {
    name: 'Threadline API',
    start: (port, prefix) =>
      node([join('dist', 'main.js')], { PORT: String(port), REDIS_PREFIX: prefix }),
  },
  {
    name: 'bare Express + queue.add',
    start: (port, prefix) =>
      node([join('bench', 'peers', 'bare-submit.mts'), String(port), prefix]),
  },
];

async function submitOnce(side: Side): Promise<{ rps: number; p99: number }> {
  const port = await freePort();
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const child = side.start(port, prefix);
  await Promise.race([
    printed(child, side.name.startsWith('Threadline') ? 'API listening' : 'ready'),
    sleep(30_000),
  ]);
  try {
    const result = await autocannon({
      url: `http://127.0.0.1:${port}/api/v1/tasks`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'echo', data: { message: 'bench' } }),
      connections: CONNECTIONS,
      duration: SUBMIT_SECONDS,
    });
    if (result.non2xx > 0 || result.errors > 0) {
      throw new Error(`${side.name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
    }
    return { rps: result.requests.average, p99: result.latency.p99 };
  } finally {
    await stop(child);
    await clean(prefix);
  }
}

// ---------------------------------------------------------------- drain

const drainSides: Side[] = [
  {
    name: 'Threadline worker',
    start: (_port, prefix) =>
      node([join('dist', 'worker.js')], {
        REDIS_PREFIX: prefix,
        WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
        LOG_LEVEL: 'info',
      }),
  },
  {
    name: 'plain BullMQ Worker',
    start: (_port, prefix) =>
      node([
        join('bench', 'peers', 'bullmq-worker.mts'),
        'medium',
        prefix,
        String(WORKER_CONCURRENCY),
      ]),
  },
];

async function drainOnce(side: Side): Promise<{ jobsPerSecond: number }> {
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const queue = new Queue('medium', { connection: { url: REDIS_URL }, prefix });
  try {
    for (let i = 0; i < DRAIN_TASKS; i += 1000) {
      const n = Math.min(1000, DRAIN_TASKS - i);
      await queue.addBulk(
        Array.from({ length: n }, () => ({
          name: 'echo',
          data: { input: {}, meta: { submitted_at: new Date().toISOString() } },
          opts: {
            jobId: randomUUID(),
            priority: 50,
            attempts: 3,
            removeOnComplete: { age: 3600 },
            removeOnFail: { age: 3600 },
          },
        })),
      );
    }
    const child = side.start(0, prefix);
    await printed(child, side.name.startsWith('Threadline') ? 'taking tasks from' : 'ready');
    const started = performance.now();
    for (;;) {
      const counts = await queue.getJobCounts('completed', 'failed');
      if (counts.failed > 0) throw new Error(`${side.name}: ${counts.failed} tasks failed`);
      if (counts.completed >= DRAIN_TASKS) break;
      await sleep(50);
    }
    const seconds = (performance.now() - started) / 1000;
    await stop(child);
    return { jobsPerSecond: DRAIN_TASKS / seconds };
  } finally {
    await queue.close();
    await clean(prefix);
  }
}

// ---------------------------------------------------------------- report

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function redisVersion(): string {
  const out = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return /v=([\d.]+)/.exec(out)?.[1] ?? 'unknown';
}

function version(pkg: string): string {
  return (
    JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
}

async function main(): Promise<void> {
  if (!existsSync(join(root, 'dist', 'main.js'))) {
    log('building (npm run build)');
    spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  }
  log(`Redis at ${REDIS_URL}; ${REPETITIONS} repetition(s), sides alternating`);
  const submit: Record<string, { rps: number[]; p99: number[] }> = {};
  const drain: Record<string, number[]> = {};
  for (let rep = 1; rep <= REPETITIONS; rep++) {
    const order = rep % 2 ? submitSides : [...submitSides].reverse();
    for (const side of order) {
      const r = await submitOnce(side);
      (submit[side.name] ??= { rps: [], p99: [] }).rps.push(r.rps);
      submit[side.name].p99.push(r.p99);
      log(`submit ${rep}/${REPETITIONS} ${side.name}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99} ms`);
    }
    for (const side of rep % 2 ? drainSides : [...drainSides].reverse()) {
      const r = await drainOnce(side);
      (drain[side.name] ??= []).push(r.jobsPerSecond);
      log(`drain ${rep}/${REPETITIONS} ${side.name}: ${r.jobsPerSecond.toFixed(0)} tasks/s`);
    }
  }
  const [api, bare] = submitSides.map((s) => submit[s.name]);
  const [ours, plain] = drainSides.map((s) => median(drain[s.name]));
  const rows = [
    [
      'POST /api/v1/tasks, requests/s',
      median(api.rps),
      median(bare.rps),
      'bare Express + queue.add',
    ],
    [
      'POST /api/v1/tasks, p99 latency (ms)',
      median(api.p99),
      median(bare.p99),
      'bare Express + queue.add',
    ],
    [
      `drain of ${DRAIN_TASKS.toLocaleString('en')} no-op tasks, tasks/s`,
      ours,
      plain,
      'plain BullMQ Worker',
    ],
  ] as const;
  const lines = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${new Date().toISOString().slice(0, 10)}. Medians of ${REPETITIONS} alternating run(s) per side.`,
    '',
    '| figure | Threadline | peer | ratio (Threadline / peer) | peer is |',
    '| --- | ---: | ---: | ---: | --- |',
    ...rows.map(
      ([figure, a, b, peer]) =>
        `| ${figure} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(a / b).toFixed(2)} | ${peer} |`,
    ),
    '',
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.versions.node}; Redis ${redisVersion()}; BullMQ ${version('bullmq')}; NestJS ${version('@nestjs/core')}.`,
    `Submit: autocannon, ${CONNECTIONS} connections (2 per core), ${SUBMIT_SECONDS} s per run, echo tasks, no Idempotency-Key. Drain: one worker process, concurrency ${WORKER_CONCURRENCY} on both sides, tasks queued before the worker starts; timed from the worker's ready line to the last completion.`,
    '',
    'What the ratios mean: the submit peer does only `queue.add`, so the gap is the price of validation, problem documents and the rest of the API; the drain peer serves one queue, so the gap is the price of strict priority across three queues (Threadline asks `high` and `medium` before taking from `low`).',
    '',
  ];
  writeFileSync(join(root, 'bench', 'RESULTS.md'), lines.join('\n'));
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  log(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
