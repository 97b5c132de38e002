// npm run bench:profile [-- --quick | --smoke] [-- --label NAME] [-- --target DIR] [-- --top N]
// [-- --out FILE]: where the CPU time goes, in the API under the submit load and in a worker
// draining no-op tasks.
//
// Each process runs with `node --cpu-prof` (its profile written, into a temporary folder, when
// it exits on SIGTERM); the samples of the measured window only (on the monotonic clock both
// this process and the profile use) are summed by function and by owner (bench/cpu-profile.mts),
// and the top frames printed and written into the profile section of bench/RESULTS.md (or
// --out), in the part named by --label (default: the short commit that last changed the
// target's src/), the other parts kept. --target DIR profiles the build (dist/,
// node_modules/) of another checkout with this script, e.g. a worktree of an older commit, for
// a before and after:
//
//   git worktree add ../before <commit> && (cd ../before && npm ci && npm run build)
//   npm run bench:profile -- --target ../before --label before
//   npm run bench:profile -- --label after
//
// Beside each profile, the CPU one request or task cost, against its bare peer run the same way
// (bench/cpu-budget.mts): every thread of the process and the Redis server, which the main
// thread's profile cannot see.
//
// A profile slows its process down: its rates are not the benchmark's; compare shares.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NODE_FLAGS, RUNTIME_ENV } from '../scripts/lib/node-flags.mts';
import { measureBudget, type CpuBudget } from './cpu-budget.mts';
import { queueEchoBacklog } from './drain-backlog.mts';
import { placeOf, summarize, type CallFrame, type CpuProfile, type Place } from './cpu-profile.mts';
import { argument, root, size } from './options.mts';
import {
  freePort,
  listening,
  log,
  peakRssMb,
  printed,
  scratch,
  spawnLogged,
  stop,
  type Spawned,
} from './processes.mts';
import {
  labelledPart,
  profileTables,
  withProfilePart,
  type ProfiledRun,
} from './profile-report.mts';
import { SourceMaps } from './source-map.mts';
import { submitLoad } from './submit-load.mts';

const SUBMIT_SECONDS = size(15, 5, 2);
const WARMUP_SECONDS = size(3, 2, 1);
const DRAIN_TASKS = size(20_000, 5_000, 500);
const CONNECTIONS = 2 * cpus().length;
const WORKER_CONCURRENCY = 8;
const TOP = Number(argument('--top') ?? 10);
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const OUT = resolve(argument('--out') ?? join(root, 'bench', 'RESULTS.md'));
const target = resolve(argument('--target') ?? root);
const BARE_SUBMIT = 'bare Fastify + queue.add';
const PLAIN_WORKER = 'plain BullMQ Worker';

/** Microseconds on the monotonic clock, as V8 stamps a profile's samples. */
const now = (): number => Number(process.hrtime.bigint() / 1000n);

function git(...args: string[]): string {
  return spawnSync('git', ['-C', target, ...args], { encoding: 'utf8' }).stdout?.trim() ?? '';
}

/**
 * A script run with `node --cpu-prof` into `dir`, with the benchmark's settings: a compiled
 * entry point of the target (`dist/…`, from the target's folder), or a peer of this checkout.
 */
function profiled(
  script: string[],
  dir: string,
  env: Record<string, string>,
  cwd = target,
): Spawned {
  return spawnLogged(
    process.execPath,
    [...NODE_FLAGS, '--cpu-prof', `--cpu-prof-dir=${dir}`, ...script],
    {
      cwd,
      env: {
        ...process.env,
        ...RUNTIME_ENV,
        REDIS_URL,
        LOG_LEVEL: 'info',
        LOG_DATA_STREAM: 'logs-threadline-bench',
        LOG_SPOOL_DIR: join(scratch, 'spool'),
        ...env,
      },
    },
  );
}

/** A peer of this checkout (bench/peers/), run the same way; its profile is not read. */
const profiledPeer = (script: string, args: string[]): Spawned =>
  profiled(
    [join(root, 'bench', 'peers', script), ...args],
    mkdtempSync(join(scratch, 'profile-peer-')),
    {},
    root,
  );

/** Reads Redis's counters for the CPU budgets; nothing else uses Redis meanwhile. */
const monitor = new Redis(REDIS_URL, { lazyConnect: true });

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

/** Where a frame's code is: Threadline's dist/ files through their maps to src/. */
function locator(): (frame: CallFrame) => Place {
  const maps = new SourceMaps(target);
  return (frame) => {
    const place = placeOf(frame);
    const file = frame.url.replace(/^file:\/\//, '');
    if (!file.startsWith(join(target, 'dist'))) return place;
    const original = maps.original(file, frame.lineNumber, frame.columnNumber);
    return original ? { ...place, where: original } : place;
  };
}

/**
 * Reads the profiles a process wrote into `dir` once stopped: the main thread's summed over
 * `window`, and one line on its other threads.
 */
function readProfiles(
  dir: string,
  window: { from: number; to: number },
): Pick<ProfiledRun, 'summary' | 'threads'> {
  // CPU.<date>.<time>.<pid>.<thread id>.<sequence>.cpuprofile; thread 0 is the main thread.
  const files = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'));
  const threadOf = (name: string): number => Number(name.split('.').at(-3));
  const main = files.find((name) => threadOf(name) === 0);
  if (main === undefined) {
    throw new Error(`no main-thread .cpuprofile in ${dir}: the process did not exit by itself`);
  }
  const read = (name: string): CpuProfile =>
    JSON.parse(readFileSync(join(dir, name), 'utf8')) as CpuProfile;
  const locate = locator();
  const others = files
    .filter((name) => name !== main)
    .map((name) => summarize(read(name), locate, window).busyMs);
  return {
    summary: summarize(read(main), locate, window),
    threads: others.length
      ? `${others.length} worker thread(s) busy ${others.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}`
      : undefined,
  };
}

/** A process serving `port` under the submit load, after an uncounted warm-up. */
async function underSubmit(
  who: string,
  spawned: Spawned,
  port: number,
): Promise<{
  rps: number;
  p99: number;
  rssMb: number;
  budget: CpuBudget;
  window: { from: number; to: number };
}> {
  await listening(spawned, port);
  const load = { connections: CONNECTIONS, warmupSeconds: 0 };
  log(`${who}: ${WARMUP_SECONDS} s of warm-up, then ${SUBMIT_SECONDS} s profiled`);
  await submitLoad(who, port, { ...load, seconds: WARMUP_SECONDS });
  const from = now();
  let rps = 0;
  let p99 = 0;
  const budget = await measureBudget(spawned.child.pid ?? 0, monitor, async () => {
    const result = await submitLoad(who, port, { ...load, seconds: SUBMIT_SECONDS });
    ({ rps, p99 } = result);
    return result.total;
  });
  const window = { from, to: now() };
  log(`${who}: ${rps.toFixed(0)} requests/s, p99 ${p99} ms`);
  return { rps, p99, rssMb: peakRssMb(spawned), budget, window };
}

/** The API under the submit load, then its bare peer under the same, for the CPU budget. */
async function profileSubmit(): Promise<ProfiledRun> {
  const dir = mkdtempSync(join(scratch, 'profile-api-'));
  const port = await freePort();
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const api = profiled([join('dist', 'main.js')], dir, {
    PORT: String(port),
    REDIS_PREFIX: prefix,
    QUOTA_TASKS_PER_CLIENT: '1000000',
  });
  let measured: Awaited<ReturnType<typeof underSubmit>>;
  try {
    measured = await underSubmit('API', api, port);
  } finally {
    await stop(api);
    await clean(prefix);
  }
  const peerPort = await freePort();
  const peerPrefix = `bench-${randomUUID().slice(0, 8)}`;
  const peer = profiledPeer('bare-fastify-submit.mts', [String(peerPort), peerPrefix]);
  let peerBudget: CpuBudget;
  try {
    peerBudget = (await underSubmit(BARE_SUBMIT, peer, peerPort)).budget;
  } finally {
    await stop(peer);
    await clean(peerPrefix);
  }
  const { rps, p99, rssMb, budget, window } = measured;
  log(`API: profiles in ${dir}`);
  return {
    title: 'API under submit',
    rate: `${rps.toLocaleString('en', { maximumFractionDigits: 0 })} requests/s (POST /api/v1/tasks, ${CONNECTIONS} connections, ${SUBMIT_SECONDS} s), p99 ${p99} ms, peak RSS ${rssMb.toFixed(0)} MB`,
    ...readProfiles(dir, window),
    unit: 'request',
    budgets: [
      { side: 'Threadline API', budget },
      { side: BARE_SUBMIT, budget: peerBudget },
    ],
  };
}

/**
 * One worker process draining DRAIN_TASKS no-op tasks, queued while `medium` was paused: the
 * worker `start`s on the queue's prefix and prints `ready` once it takes tasks.
 */
async function drain(
  who: string,
  start: (prefix: string) => Spawned,
  ready: string,
): Promise<{
  rate: number;
  rssMb: number;
  budget: CpuBudget;
  window: { from: number; to: number };
}> {
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const queue = new Queue('medium', { connection: { url: REDIS_URL }, prefix });
  let worker: Spawned | undefined;
  try {
    await queueEchoBacklog(queue, DRAIN_TASKS);
    worker = start(prefix);
    await printed(worker, ready);
    log(`${who}: draining ${DRAIN_TASKS.toLocaleString('en')} tasks, profiled`);
    const from = now();
    const budget = await measureBudget(worker.child.pid ?? 0, monitor, async () => {
      await queue.resume();
      for (;;) {
        const { completed, failed } = await queue.getJobCounts('completed', 'failed');
        if (failed > 0) throw new Error(`${who}: ${failed} tasks failed`);
        if (completed >= DRAIN_TASKS) return completed;
        await sleep(25);
      }
    });
    const window = { from, to: now() };
    const rate = DRAIN_TASKS / ((window.to - window.from) / 1e6);
    const rssMb = peakRssMb(worker);
    await stop(worker);
    log(`${who}: ${rate.toFixed(0)} tasks/s`);
    return { rate, rssMb, budget, window };
  } finally {
    if (worker) await stop(worker);
    await queue.close();
    await clean(prefix);
  }
}

/** A Threadline worker draining no-op tasks, then a plain BullMQ Worker, for the CPU budget. */
async function profileDrain(): Promise<ProfiledRun> {
  const dir = mkdtempSync(join(scratch, 'profile-worker-'));
  const env = { WORKER_CONCURRENCY: String(WORKER_CONCURRENCY) };
  const ours = await drain(
    'worker',
    (prefix) => profiled([join('dist', 'worker.js')], dir, { ...env, REDIS_PREFIX: prefix }),
    'taking tasks from',
  );
  const peer = await drain(
    PLAIN_WORKER,
    (prefix) => profiledPeer('bullmq-worker.mts', ['medium', prefix, String(WORKER_CONCURRENCY)]),
    'ready',
  );
  log(`worker: profiles in ${dir}`);
  return {
    title: 'Worker under drain',
    rate: `${ours.rate.toLocaleString('en', { maximumFractionDigits: 0 })} tasks/s (${DRAIN_TASKS.toLocaleString('en')} no-op tasks, concurrency ${WORKER_CONCURRENCY}), peak RSS ${ours.rssMb.toFixed(0)} MB`,
    ...readProfiles(dir, ours.window),
    unit: 'task',
    budgets: [
      { side: 'Threadline worker', budget: ours.budget },
      { side: PLAIN_WORKER, budget: peer.budget },
    ],
  };
}

async function main(): Promise<void> {
  if (!existsSync(join(target, 'dist', 'main.js'))) {
    log(`building ${target} (npm run build)`);
    spawnSync('npm', ['run', 'build'], { cwd: target, stdio: 'inherit' });
  }
  // What is profiled is src/: the last commit that changed it names it (a branch that changed
  // only benchmarks, docs or dev packages profiles the same code as its base).
  const profiledPaths = ['--', 'src'];
  const commit = git('log', '-1', '--format=%h', ...profiledPaths) || 'unknown';
  const label = argument('--label') ?? commit;
  if (!/^[\w.-]+$/.test(label)) {
    throw new Error(`--label ${label}: letters, digits, '.', '_' and '-' only`);
  }
  const fullSubject = git('log', '-1', '--format=%s', ...profiledPaths);
  const subject =
    fullSubject.length > 80 ? `${fullSubject.slice(0, 80).replace(/\s+\S*$/, '')}…` : fullSubject;
  const dirty = git('status', '--porcelain', '--untracked-files=no', ...profiledPaths)
    ? ', with uncommitted changes'
    : '';
  log(`profiling ${target} at ${commit}${dirty} as "${label}"`);
  const runs = [await profileSubmit(), await profileDrain()];
  await monitor.quit();
  for (const run of runs) {
    process.stdout.write(
      [`\n${run.title}: ${run.rate}`, '', ...profileTables(run.summary, TOP), ''].join('\n'),
    );
  }
  const heading = `${label === commit ? '' : `${label}: `}src/ of commit ${commit}${dirty} (${subject}), ${new Date().toISOString().slice(0, 10)}`;
  const previous = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '# Benchmark results\n';
  writeFileSync(OUT, withProfilePart(previous, label, labelledPart(label, heading, runs, TOP)));
  log(`wrote the "${label}" part of the profile section of ${OUT}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench] ${error instanceof Error ? error.message : String(error)}\n`, () =>
    process.exit(1),
  );
});
