// npm run bench [-- --quick | --smoke] [-- --only seed,submit,context,metrics,drain,line,ship,trace]
// [-- --out FILE]: Threadline against its peers, side by side in one run. (One Redis against a
// Redis Cluster: npm run bench:cluster, bench/cluster.mts.)
//
//   seed:    the stack Threadline replaces (FastAPI + uvicorn + Celery, installed from PyPI
//            into a venv): POST /api/v1/tasks with 2 processes each side, and end-to-end
//            latency (submit to started, submit to completed) at a fixed 200 requests/s
//   submit:  POST /api/v1/tasks (validation, idempotency off) vs a bare Express + queue.add
//            and a bare Fastify + queue.add (the goal is against the faster of the two), with
//            the API's peak RSS
//   context: POST /api/v1/tasks with the flow context and stamping on vs off (LOG_CONTEXT)
//   metrics: POST /api/v1/tasks with metrics on and /metrics scraped every second vs off (METRICS):
//            requests/s at the peak, the API's CPU per request at a fixed rate, and the metrics'
//            own work counted (bench/metrics-cost.mts)
//   drain:   20,000 no-op tasks through one Threadline worker vs one plain BullMQ Worker and
//            vs one Celery worker (prefork, one pool process); then the whole machine: two
//            Threadline worker processes (as WORKERS=2 npm start runs them) vs two plain BullMQ
//            Worker processes and vs Celery prefork with two pool processes
//   line:    a stamped ECS line vs bare pino and vs winston, 100,000 lines to /dev/null
//   ship:    lines/s shipped into Elasticsearch through the spool vs raw _bulk of the same
//            lines; POST /api/v1/tasks with shipping on vs off; write-to-searchable lag
//   trace:   threadline trace over 1,000,000 lines of 10,000 flows: Elasticsearch time and
//            CLI wall time, p50 and p99, over 100 random IDs of each kind; and the flow list
//            of the last hour of them, all and status=failed (bench/flows.mts)
//
// Both sides run in the same session, alternating, several times; the medians and their
// ratio go to bench/RESULTS.md (or --out). Absolute numbers drift on shared machines; ratios
// hold better. --quick runs each side once at smaller sizes; --smoke runs tiny sizes, to show
// the suite still works (CI). Goals are reported, not asserted: the suite exits non-zero only
// when it could not measure. Progress goes to stderr (which figure, which side, run k of n,
// the time since the start); a full run takes 20 to 30 minutes on 2 cores, the sections'
// times are in the report's header. Where the CPU time goes: npm run bench:profile
// (bench/profile.mts), whose section of the report this script keeps.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NODE_FLAGS, RUNTIME_ENV } from '../scripts/lib/node-flags.mts';
import { queueEchoBacklog } from './drain-backlog.mts';
import { installPythonPeers, PythonStack } from './celery.mts';
import { SECTION_END, SECTION_START } from './cluster.mts';
import { PROFILE_END, PROFILE_START, sectionOf, withSection } from './profile-report.mts';
import { latencies, openLoop, type LatencyFigures, type TaskTimes } from './e2e.mts';
import { timeLines } from './log-line.mts';
import {
  cpuSeconds,
  cpuSplit,
  duration,
  freePort,
  listening,
  log,
  median,
  peakRssMb,
  printed,
  processTree,
  scratch,
  spawnLogged,
  stop,
  type Spawned,
} from './processes.mts';
import { argument, quick, root, size, smoke } from './options.mts';
import { fixedRateCpu, metricsCallsUs, scrapeCpuMs } from './metrics-cost.mts';
import { submitLoad } from './submit-load.mts';
import { flowListBench } from './flows.mts';
import { traceBench, type TraceSize } from './trace.mts';

const REPETITIONS = quick ? 1 : 3;
/** Runs of the figures whose two sides are a few per cent apart (context, metrics, the log line). */
const CLOSE_REPETITIONS = quick ? 1 : 7;
const DRAIN_TASKS = size(20_000, 2_000, 300);
const SUBMIT_SECONDS = size(10, 3, 1);
/** Load before each measured submit or latency run, not counted. */
const WARMUP_SECONDS = size(2, 2, 0);
const CONNECTIONS = 2 * cpus().length;
const WORKER_CONCURRENCY = 8;
const LINES = size(100_000, 100_000, 5_000);
const SHIP_LINES = size(200_000, 20_000, 2_000);
const LAG_RATE = 500; // lines/s
const LAG_SECONDS = size(15, 15, 2);
const E2E_RATE = 200; // requests/s
const E2E_SECONDS = size(20, 5, 1);
/** Processes on each side of the seed comparison: API processes, uvicorn workers. */
const SEED_PROCESSES = 2;
/** Worker processes on each side of the whole-machine drain: one per core of this machine's 2. */
const MACHINE_WORKERS = 2;
/** The most unfinished tasks a client may have (QUOTA_TASKS_PER_CLIENT): one benchmark client submits far more than a worker drains. */
const UNLIMITED_QUOTA = '1000000';
const TRACE: TraceSize = smoke
  ? { flows: 100, samples: 3, stream: 'logs-threadline-benchflowsmoke' }
  : // Renamed when its lines change: a stream already loaded is reused as it is.
    { flows: 10_000, samples: 100, stream: 'logs-threadline-benchflows' };
const ES_URL = process.env.ELASTICSEARCH_URL || 'http://127.0.0.1:9200';
const BENCH_STREAM = 'logs-threadline-bench';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const OUT = resolve(argument('--out') ?? join(root, 'bench', 'RESULTS.md'));
const only = (() => {
  const list = argument('--only');
  return list === undefined ? undefined : new Set(list.split(','));
})();
const runs = (name: string): boolean => only === undefined || only.has(name);

/** CPUs the processes under test are pinned to (taskset), while set. */
let pinnedTo: string | undefined;

/** A Node process under test, with the V8 flags and environment npm start gives Threadline's processes. */
function node(args: string[], env: Record<string, string> = {}): Spawned {
  const nodeArgs = [...NODE_FLAGS, ...args];
  const [command, commandArgs] = pinnedTo
    ? ['taskset', ['-c', pinnedTo, process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  return spawnLogged(command, commandArgs, {
    cwd: root,
    env: { ...process.env, ...RUNTIME_ENV, REDIS_URL, LOG_LEVEL: 'info', ...env },
  });
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

interface Side {
  name: string;
  start(port: number, prefix: string): Spawned;
  /** Resolves when the side serves, once started on `port`; by default when the port answers. */
  ready?(spawned: Spawned, port: number): Promise<void>;
  /** Removes what a run left in Redis, beyond the run's own key prefix. */
  clean?(): Promise<void>;
  /** The processes that serve the side's port, when more than one. */
  processes?: number;
}

/**
 * Measured loads of a multi-process side in which a process sat out, before taking the last.
 * Each server process accepts whatever connections are pending when it wakes (asyncio and
 * libuv alike), so the load's few connections can all land on one process of the group.
 */
const SPREAD_TRIES = 3;

/** Whether each of `processes` took a fair part (40% / processes, at least) of the CPU. */
const spread = (split: number[], processes: number): boolean =>
  split.length >= processes && (split[processes - 1] ?? 0) >= 40 / processes;

const showSplit = (split: number[]): string => split.join('/') || 'n/a';

/** Multi-process loads measured again because a process sat out, for the notes. */
const remeasured: string[] = [];

// ---------------------------------------------------------------- HTTP submit

const api = (env: Record<string, string>) => (port: number, prefix: string) =>
  node([join('dist', 'main.js')], {
    PORT: String(port),
    REDIS_PREFIX: prefix,
    LOG_DATA_STREAM: BENCH_STREAM,
    LOG_SPOOL_DIR: join(scratch, 'spool'),
    // A benchmark is one client submitting far more than a worker drains.
    QUOTA_TASKS_PER_CLIENT: UNLIMITED_QUOTA,
    ...env,
  });

const submitSides: Side[] = [
  { name: 'Threadline API', start: api({}) },
  {
    name: 'bare Express + queue.add',
    start: (port, prefix) =>
      node([join('bench', 'peers', 'bare-submit.mts'), String(port), prefix]),
  },
  {
    name: 'bare Fastify + queue.add',
    start: (port, prefix) =>
      node([join('bench', 'peers', 'bare-fastify-submit.mts'), String(port), prefix]),
  },
];
const contextSides: Side[] = [
  { name: 'context on', start: api({ LOG_CONTEXT: 'true' }) },
  { name: 'context off', start: api({ LOG_CONTEXT: 'false' }) },
];

/** Scrapes the API's /metrics every second (Prometheus's usual interval is 15 s) until it stops. */
async function scrapedEverySecond(spawned: Spawned, port: number): Promise<void> {
  await listening(spawned, port);
  const timer = setInterval(() => {
    fetch(`http://127.0.0.1:${port}/metrics`)
      .then((response) => {
        if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
        return response.text();
      })
      .catch(() => clearInterval(timer));
  }, 1000);
  spawned.child.once('exit', () => clearInterval(timer));
}
const metricsSides: Side[] = [
  {
    name: 'metrics on, scraped every second',
    start: api({ METRICS: 'true' }),
    ready: scrapedEverySecond,
  },
  { name: 'metrics off', start: api({ METRICS: 'false' }) },
];

const METRICS_RATE = 800; // requests/s: under half of what one API process answers here
const METRICS_WINDOWS = size(20, 4, 1);
const METRICS_WINDOW_SECONDS = size(4, 2, 1);
// The first thousands of requests run slower (V8 compiles, the heap grows): left out.
const METRICS_WARMUP_SECONDS = size(10, 3, 1);

/**
 * The metrics' cost at a fixed rate (bench/metrics-cost.mts): the API's CPU per request, on and
 * scraped vs off, in alternating windows; and the metrics' own work counted, as rows.
 */
async function metricsCost(): Promise<{ rows: Row[]; note: string }> {
  // A second API with metrics off: how far apart two identical sides read is the noise.
  const control: Side = { name: 'metrics off, a second process', start: api({ METRICS: 'false' }) };
  const started = await Promise.all(
    [...metricsSides, control].map(async (side) => {
      const port = await freePort();
      const prefix = `bench-${randomUUID().slice(0, 8)}`;
      const spawned = side.start(port, prefix);
      await (side.ready ?? listening)(spawned, port);
      return { side, port, prefix, spawned };
    }),
  );
  try {
    const apis = started.map(({ side, port, spawned }) => ({
      name: side.name,
      port,
      pid: spawned.child.pid ?? 0,
    }));
    const load = { connections: CONNECTIONS, warmupSeconds: 0 };
    for (const api of apis) {
      await submitLoad(api.name, api.port, { ...load, seconds: METRICS_WARMUP_SECONDS });
    }
    const cpu = await fixedRateCpu(
      apis,
      {
        rate: METRICS_RATE,
        seconds: METRICS_WINDOW_SECONDS,
        windows: METRICS_WINDOWS,
        connections: CONNECTIONS,
      },
      (line) => log(`metrics at ${METRICS_RATE} req/s: ${line}`),
    );
    const [onUs, offUs, controlUs] = apis.map((a) => cpu.usPerRequest[a.name]);
    const scrapeMs = await scrapeCpuMs(apis[0], size(200, 50, 5));
    const callsUs = metricsCallsUs(root, size(1_000_000, 200_000, 20_000));
    // A scrape every second spread over the requests of that second.
    const countedUs = callsUs + (scrapeMs * 1e3) / METRICS_RATE;
    const perCpuSecond = (us: number): number => 1e6 / us;
    const windows = (name: string): string =>
      cpu.windows[name].map((us) => us.toFixed(0)).join(', ');
    return {
      rows: [
        [
          `POST /api/v1/tasks at ${METRICS_RATE} req/s, metrics on and scraped every second: requests per CPU-second of the API`,
          perCpuSecond(onUs),
          perCpuSecond(offUs),
          'same API, METRICS=false',
          '≥ 0.97',
        ],
        [
          `POST /api/v1/tasks at ${METRICS_RATE} req/s, control: requests per CPU-second of a second API with metrics off (the noise)`,
          perCpuSecond(controlUs),
          perCpuSecond(offUs),
          'same API, METRICS=false',
          '1.00 ± noise',
        ],
        [
          'POST /api/v1/tasks, the metrics’ own work counted: requests per CPU-second of the API',
          perCpuSecond(offUs + countedUs),
          perCpuSecond(offUs),
          'same API, METRICS=false',
          '≥ 0.97',
        ],
      ],
      note: [
        `Metrics' cost (bench/metrics-cost.mts). Requests/s at the peak drift by ±30% between runs on this machine, more than the cost; the rows after it measure it other ways.`,
        `At a fixed ${METRICS_RATE} req/s, three APIs up (on and scraped, off, and off again as a control), after ${METRICS_WARMUP_SECONDS} s of warm-up each, ${METRICS_WINDOWS} windows of ${METRICS_WINDOW_SECONDS} s each, in alternating order: CPU per request (every thread of the API) ${onUs.toFixed(0)} µs on and scraped, ${offUs.toFixed(0)} µs off, ${controlUs.toFixed(0)} µs for the control.`,
        `Per window, on: ${windows(apis[0].name)}; off: ${windows(apis[1].name)}; control: ${windows(apis[2].name)}.`,
        `Where the control is as far from off as on is, the cost is below what this machine can show end to end; the count below is then the figure.`,
        `Counted: the Metrics calls of one submission (an HTTP observation and a submit count) take ${callsUs.toFixed(2)} µs; a scrape takes ${scrapeMs.toFixed(1)} ms of the API's CPU, ${((scrapeMs * 1e3) / METRICS_RATE).toFixed(2)} µs per request at a scrape a second; together ${countedUs.toFixed(2)} µs of the ${offUs.toFixed(0)} µs a request costs with metrics off (${((100 * countedUs) / offUs).toFixed(1)}%).`,
      ].join(' '),
    };
  } finally {
    for (const { spawned, prefix } of started) {
      await stop(spawned);
      await clean(prefix);
    }
  }
}

interface SubmitResult {
  rps: number;
  p99: number;
  /** Peak RSS of the process started (for a group, its primary's: not reported). */
  rssMb: number;
  /** How the CPU time of the measured load split over the side's processes, in per cents. */
  split: number[];
}

async function submitOnce(side: Side): Promise<SubmitResult> {
  const port = await freePort();
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const spawned = side.start(port, prefix);
  await (side.ready ?? listening)(spawned, port);
  try {
    const load = { connections: CONNECTIONS, warmupSeconds: 0 };
    if (WARMUP_SECONDS > 0) await submitLoad(side.name, port, { ...load, seconds: WARMUP_SECONDS });
    const pids = processTree(spawned.child.pid ?? 0);
    for (let attempt = 1; ; attempt++) {
      const before = pids.map(cpuSeconds);
      const { rps, p99 } = await submitLoad(side.name, port, { ...load, seconds: SUBMIT_SECONDS });
      const split = cpuSplit(pids, before);
      const processes = side.processes ?? 1;
      if (processes === 1 || spread(split, processes) || attempt === SPREAD_TRIES) {
        return { rps, p99, rssMb: peakRssMb(spawned), split };
      }
      const what = `${side.name}: CPU split ${showSplit(split)} at ${rps.toFixed(0)} req/s`;
      log(`${what}, a process sat out: measuring again (${attempt + 1} of ${SPREAD_TRIES})`);
      remeasured.push(what);
    }
  } finally {
    await stop(spawned);
    await clean(prefix);
    await side.clean?.();
  }
}

// ---------------------------------------------------------------- the seed's stack

/** The Python stack, once its packages are installed (the seed and drain sections). */
let python: PythonStack | undefined;
function pythonStack(): PythonStack {
  if (!python) {
    installPythonPeers();
    python = PythonStack.open(REDIS_URL);
  }
  return python;
}

/** Threadline's side of the seed comparison: SEED_PROCESSES API processes on one port. */
const apiGroup: Side = {
  name: `Threadline API, ${SEED_PROCESSES} processes`,
  start: (port, prefix) =>
    node([join('bench', 'api-cluster.mts'), String(SEED_PROCESSES)], {
      PORT: String(port),
      REDIS_PREFIX: prefix,
      LOG_DATA_STREAM: BENCH_STREAM,
      LOG_SPOOL_DIR: join(scratch, 'spool'),
      QUOTA_TASKS_PER_CLIENT: UNLIMITED_QUOTA,
    }),
  ready: (spawned) => printed(spawned, 'API listening on', SEED_PROCESSES),
  processes: SEED_PROCESSES,
};
const fastApi: Side = {
  name: `FastAPI + Celery apply_async, ${SEED_PROCESSES} uvicorn workers`,
  start: (port) => pythonStack().api(port, SEED_PROCESSES),
  ready: (spawned) => printed(spawned, 'Application startup complete.', SEED_PROCESSES),
  clean: () => pythonStack().flush(),
  processes: SEED_PROCESSES,
};
const seedSides: Side[] = [apiGroup, fastApi];

/**
 * End-to-end latency of one side at E2E_RATE requests/s: its API (SEED_PROCESSES processes)
 * and one worker; the worker's task store says when each task started and completed.
 */
async function latencyOnce(side: Side): Promise<LatencyFigures> {
  const port = await freePort();
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const threadline = side === apiGroup;
  const apiProcess = side.start(port, prefix);
  const worker = threadline
    ? node([join('dist', 'worker.js')], {
        REDIS_PREFIX: prefix,
        WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
        LOG_DATA_STREAM: BENCH_STREAM,
        LOG_SPOOL_DIR: join(scratch, 'spool'),
      })
    : pythonStack().worker(1);
  const redis = new Redis(REDIS_URL);
  try {
    await (side.ready ?? listening)(apiProcess, port);
    await printed(worker, threadline ? 'taking tasks from' : 'ready.');
    const url = `http://127.0.0.1:${port}/api/v1/tasks`;
    if (WARMUP_SECONDS > 0) await openLoop(url, E2E_RATE, WARMUP_SECONDS);
    const sent = await openLoop(url, E2E_RATE, E2E_SECONDS);
    const bullmqTimes = async (ids: string[]): Promise<TaskTimes[]> => {
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hmget(`${prefix}:medium:${id}`, 'processedOn', 'finishedOn');
      const replies = (await pipeline.exec()) ?? [];
      return replies.map(([, fields]) => {
        const [startedOn, finishedOn] = fields as (string | null)[];
        return startedOn && finishedOn
          ? { started: Number(startedOn), completed: Number(finishedOn) }
          : undefined;
      });
    };
    return await latencies(sent, threadline ? bullmqTimes : (ids) => pythonStack().times(ids));
  } finally {
    await Promise.all([stop(apiProcess), stop(worker)]);
    await redis.quit();
    await clean(prefix);
    await side.clean?.();
  }
}

const shippingSides: Side[] = [
  { name: 'shipping on', start: api({ LOG_SHIPPING: 'true' }) },
  { name: 'shipping off', start: api({ LOG_SHIPPING: 'false' }) },
];

// ---------------------------------------------------------------- shipping

/** Runs one side of the shipping benchmark in a child process; returns its JSON result. */
async function shipChild(
  mode: 'threadline' | 'bulk' | 'lag',
  n: number,
  bulkBytes = 1024 * 1024,
  seconds = 0,
): Promise<Record<string, number>> {
  const out = join(scratch, `${randomUUID()}.json`);
  const child = spawn(
    process.execPath,
    [
      join(root, 'bench', 'peers', 'ship-child.mts'),
      mode,
      String(n),
      BENCH_STREAM,
      join(scratch, 'spool'),
      String(bulkBytes),
      out,
      String(seconds),
    ],
    {
      cwd: root,
      env: { ...process.env, ELASTICSEARCH_URL: ES_URL },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  if (code !== 0) throw new Error(`ship-child ${mode} exited with ${code}`);
  return JSON.parse(readFileSync(out, 'utf8')) as Record<string, number>;
}

/**
 * Runs `body` with Elasticsearch on the last core and the API (and the load generator) on the
 * others, so that a comparison of the API with shipping on and off measures what shipping
 * costs the API, not the CPU Elasticsearch takes from it on a machine that runs both. Without
 * taskset, or without a recorded Elasticsearch pid, runs unpinned and says so.
 */
async function withElasticsearchApart<T>(
  body: () => Promise<T>,
): Promise<{ result: T; pinned: boolean }> {
  const port = new URL(ES_URL).port || '9200';
  const record = join(root, '.services', `elasticsearch-${port}.json`);
  const cores = cpus().length;
  const hasTaskset = spawnSync('taskset', ['--version']).status === 0;
  if (!hasTaskset || cores < 2 || !existsSync(record)) {
    log(
      'shipping on/off: not pinned (needs taskset, 2+ cores, and an Elasticsearch this project started)',
    );
    return { result: await body(), pinned: false };
  }
  const esPid = String((JSON.parse(readFileSync(record, 'utf8')) as { pid: number }).pid);
  const all = `0-${cores - 1}`;
  const apiCores = cores === 2 ? '0' : `0-${cores - 2}`;
  const pin = (cpuList: string, pid: string): void => {
    spawnSync('taskset', ['-a', '-p', '-c', cpuList, pid], { stdio: 'ignore' });
  };
  pin(String(cores - 1), esPid);
  pin(apiCores, String(process.pid));
  pinnedTo = apiCores;
  try {
    return { result: await body(), pinned: true };
  } finally {
    pinnedTo = undefined;
    pin(all, esPid);
    pin(all, String(process.pid));
  }
}

function installBenchTemplate(): void {
  const setup = spawnSync(process.execPath, [join(root, 'dist', 'es-setup.js')], {
    cwd: root,
    env: { ...process.env, ELASTICSEARCH_URL: ES_URL, LOG_DATA_STREAM: BENCH_STREAM },
    encoding: 'utf8',
  });
  if (setup.status !== 0) throw new Error(`es-setup failed: ${setup.stderr}`);
}

// ---------------------------------------------------------------- drain

interface DrainResult {
  jobsPerSecond: number;
  /** The highest peak RSS among the side's processes, in MB. */
  rssMb: number;
  /** How the CPU time of the drain split over the side's processes, in per cents. */
  split: number[];
}

interface DrainSide {
  name: string;
  /** Drains DRAIN_TASKS queued tasks with the side's worker processes. */
  run(): Promise<DrainResult>;
}

/**
 * BullMQ's side: tasks queued on `medium` under a fresh prefix while it is paused, `processes`
 * worker processes started, and the queue resumed once all are ready, so that each meets the
 * whole backlog; timed from the resume to the last completion.
 */
async function drainBullmq(
  name: string,
  start: (prefix: string) => Spawned,
  ready: string,
  processes: number,
): Promise<DrainResult> {
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const queue = new Queue('medium', { connection: { url: REDIS_URL }, prefix });
  const spawned: Spawned[] = [];
  try {
    await queueEchoBacklog(queue, DRAIN_TASKS);
    for (let i = 0; i < processes; i++) spawned.push(start(prefix));
    await Promise.all(spawned.map((s) => printed(s, ready)));
    const pids = spawned.map((s) => s.child.pid ?? 0);
    const before = pids.map(cpuSeconds);
    const started = performance.now();
    await queue.resume();
    for (;;) {
      const counts = await queue.getJobCounts('completed', 'failed');
      if (counts.failed > 0) throw new Error(`${name}: ${counts.failed} tasks failed`);
      if (counts.completed >= DRAIN_TASKS) break;
      await sleep(25);
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      jobsPerSecond: DRAIN_TASKS / seconds,
      rssMb: Math.max(...spawned.map(peakRssMb)),
      split: cpuSplit(pids, before),
    };
  } finally {
    await Promise.all(spawned.map(stop));
    await queue.close();
    await clean(prefix);
  }
}

/**
 * Celery's side: the same number of echo tasks queued by Celery's own client, then one worker
 * with a prefork pool of `processes`; timed from its ready line to the last stored result.
 */
async function drainCelery(processes: number): Promise<DrainResult> {
  const stack = pythonStack();
  await stack.flush();
  stack.enqueue(DRAIN_TASKS);
  const worker = stack.worker(processes);
  try {
    await printed(worker, 'ready.');
    const pids = processTree(worker.child.pid ?? 0);
    const before = pids.map(cpuSeconds);
    const started = performance.now();
    await stack.stored(DRAIN_TASKS);
    const seconds = (performance.now() - started) / 1000;
    return {
      jobsPerSecond: DRAIN_TASKS / seconds,
      rssMb: Math.max(...pids.map((pid) => peakRssMb({ child: { pid } }))),
      split: cpuSplit(pids, before),
    };
  } finally {
    await stop(worker);
    await stack.flush();
  }
}

/** Threadline's worker, plain BullMQ's and Celery's, each with `processes` processes. */
function drainSides(processes: number): DrainSide[] {
  const many = processes > 1;
  return [
    {
      name: many ? `Threadline, WORKERS=${processes}` : 'Threadline worker',
      run: () =>
        drainBullmq(
          'Threadline worker',
          (prefix) =>
            node([join('dist', 'worker.js')], {
              REDIS_PREFIX: prefix,
              WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
              LOG_DATA_STREAM: BENCH_STREAM,
              LOG_SPOOL_DIR: join(scratch, 'spool'),
            }),
          'taking tasks from',
          processes,
        ),
    },
    {
      name: many ? `plain BullMQ Worker, ${processes} processes` : 'plain BullMQ Worker',
      run: () =>
        drainBullmq(
          'plain BullMQ Worker',
          (prefix) =>
            node([
              join('bench', 'peers', 'bullmq-worker.mts'),
              'medium',
              prefix,
              String(WORKER_CONCURRENCY),
            ]),
          'ready',
          processes,
        ),
    },
    {
      name: many ? `Celery, prefork, ${processes} pool processes` : 'Celery worker',
      run: () => drainCelery(processes),
    },
  ];
}

// ---------------------------------------------------------------- report

function redisVersion(): string {
  const out = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return /v=([\d.]+)/.exec(out)?.[1] ?? 'unknown';
}

/** The pinned version of a Python peer, from its requirements file. */
function pythonVersion(pkg: string): string {
  const requirements = readFileSync(
    join(root, 'bench', 'peers', 'celery', 'requirements.txt'),
    'utf8',
  );
  return new RegExp(`^${pkg}==(\\S+)$`, 'm').exec(requirements)?.[1] ?? 'unknown';
}

function version(pkg: string): string {
  return (
    JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
}

type Row = [figure: string, ours: number, peer: number, peerIs: string, goal: string];

/** Runs every side `repetitions` times, rotating which goes first; each side's results. */
async function alternate<S extends { name: string }, T>(
  name: string,
  sides: S[],
  once: (side: S) => Promise<T>,
  show: (r: T) => string,
  repetitions = REPETITIONS,
): Promise<Record<string, T[]>> {
  const results: Record<string, T[]> = {};
  for (let rep = 1; rep <= repetitions; rep++) {
    const first = (rep - 1) % sides.length;
    for (const side of [...sides.slice(first), ...sides.slice(0, first)]) {
      log(`${name}: run ${rep} of ${repetitions}, ${side.name} ...`);
      const r = await once(side);
      (results[side.name] ??= []).push(r);
      log(`${name}: run ${rep} of ${repetitions}, ${side.name}: ${show(r)}`);
    }
  }
  return results;
}

async function main(): Promise<void> {
  if (!existsSync(join(root, 'dist', 'main.js'))) {
    log('building (npm run build)');
    spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  }
  log(`Redis at ${REDIS_URL}; ${REPETITIONS} repetition(s), sides alternating`);
  const began = performance.now();
  const took: string[] = [];
  let current: { name: string; at: number } | undefined;
  /** Marks the start of a section (or the end of the last): the header gives each one's time. */
  const section = (name?: string): void => {
    const now = performance.now();
    if (current) {
      took.push(`${current.name} ${duration(now - current.at)}`);
      log(`${current.name}: done in ${duration(now - current.at)}`);
    }
    current = name === undefined ? undefined : { name, at: now };
    if (name !== undefined) log(`${name}: starting`);
  };
  const rows: Row[] = [];
  let metricsNote = '';
  let lagRow = '';
  let shippingPinned = false;
  const show = (r: SubmitResult): string =>
    `${r.rps.toFixed(0)} req/s, p99 ${r.p99} ms, CPU split ${showSplit(r.split)}`;
  /** How each multi-process side's CPU time split over its processes, for the notes. */
  const splits: string[] = [];
  const splitOf = (side: string, results: { split: number[] }[]): void => {
    splits.push(`${side} ${results.map((x) => showSplit(x.split)).join(', ')}`);
  };

  const latencyRows: string[] = [];
  if (runs('seed')) {
    section('seed');
    const r = await alternate('seed submit', seedSides, submitOnce, show);
    const [ours, peer] = seedSides.map((s) => r[s.name]);
    splitOf(`submit, ${seedSides[0].name}:`, ours);
    splitOf(`submit, ${seedSides[1].name}:`, peer);
    const peerIs = `FastAPI + uvicorn + Celery apply_async, ${SEED_PROCESSES} processes each side`;
    rows.push([
      `POST /api/v1/tasks, ${SEED_PROCESSES} processes, requests/s`,
      median(ours.map((x) => x.rps)),
      median(peer.map((x) => x.rps)),
      peerIs,
      '≥ 3',
    ]);
    rows.push([
      `POST /api/v1/tasks, ${SEED_PROCESSES} processes, p99 latency (ms)`,
      median(ours.map((x) => x.p99)),
      median(peer.map((x) => x.p99)),
      peerIs,
      '≤ 0.5',
    ]);
    const showLatency = (x: LatencyFigures): string =>
      `started p50 ${x.started.p50} p99 ${x.started.p99} ms, completed p50 ${x.completed.p50} p99 ${x.completed.p99} ms`;
    const l = await alternate('latency', seedSides, latencyOnce, showLatency);
    const [oursL, peerL] = seedSides.map((side) => l[side.name]);
    for (const stage of ['started', 'completed'] as const) {
      const figure = (xs: LatencyFigures[], q: 'p50' | 'p99'): number =>
        median(xs.map((x) => x[stage][q]));
      const [o50, o99, p50, p99] = [
        figure(oursL, 'p50'),
        figure(oursL, 'p99'),
        figure(peerL, 'p50'),
        figure(peerL, 'p99'),
      ];
      latencyRows.push(
        `| submit → ${stage} | ${o50.toFixed(1)} | ${o99.toFixed(1)} | ${p50.toFixed(1)} | ${p99.toFixed(1)} | ${(o99 / p99).toFixed(2)} | ≤ 0.5 |`,
      );
    }
  }
  if (runs('submit')) {
    section('submit');
    const r = await alternate('submit', submitSides, submitOnce, show);
    const [oursSide, ...bareSides] = submitSides;
    const ours = r[oursSide.name];
    const rps = (side: Side): number => median(r[side.name].map((x) => x.rps));
    // The goal is against the fastest bare server of this run, whichever it is.
    const fastest = bareSides.reduce((a, b) => (rps(b) > rps(a) ? b : a));
    for (const bare of bareSides) {
      rows.push([
        'POST /api/v1/tasks, requests/s',
        median(ours.map((x) => x.rps)),
        rps(bare),
        bare === fastest ? `${bare.name}, the fastest bare peer of this run` : bare.name,
        bare === fastest ? '≥ 0.6' : 'against the fastest',
      ]);
    }
    const peer = r[fastest.name];
    rows.push([
      'peak RSS of the API under submit (MB)',
      Math.max(...ours.map((x) => x.rssMb)),
      Math.max(...peer.map((x) => x.rssMb)),
      fastest.name,
      '< 200 MB',
    ]);
    rows.push([
      'POST /api/v1/tasks, p99 latency (ms)',
      median(ours.map((x) => x.p99)),
      median(peer.map((x) => x.p99)),
      fastest.name,
      'baseline',
    ]);
  }
  if (runs('context')) {
    section('context');
    // The two sides differ by a few per cent: more runs than elsewhere, to see past the drift.
    const r = await alternate('context', contextSides, submitOnce, show, CLOSE_REPETITIONS);
    const [on, off] = contextSides.map((s) => r[s.name]);
    rows.push([
      'POST /api/v1/tasks with context on, requests/s',
      median(on.map((x) => x.rps)),
      median(off.map((x) => x.rps)),
      'same API, LOG_CONTEXT=false',
      '≥ 0.95',
    ]);
  }
  if (runs('metrics')) {
    section('metrics');
    // As with the context: a few per cent apart, so more runs.
    const r = await alternate('metrics', metricsSides, submitOnce, show, CLOSE_REPETITIONS);
    const [on, off] = metricsSides.map((s) => r[s.name]);
    rows.push([
      'POST /api/v1/tasks with metrics on and scraped every second, requests/s',
      median(on.map((x) => x.rps)),
      median(off.map((x) => x.rps)),
      'same API, METRICS=false',
      '≥ 0.97',
    ]);
    const cost = await metricsCost();
    rows.push(...cost.rows);
    metricsNote = cost.note;
  }
  if (runs('drain')) {
    section('drain');
    const showDrain = (x: DrainResult): string =>
      `${x.jobsPerSecond.toFixed(0)} tasks/s, peak RSS ${x.rssMb.toFixed(0)} MB, CPU split ${showSplit(x.split)}`;
    const tasks = DRAIN_TASKS.toLocaleString('en');
    for (const processes of [1, MACHINE_WORKERS]) {
      const sides = drainSides(processes);
      const r = await alternate(
        processes === 1 ? 'drain, 1 process' : `drain, ${processes} processes`,
        sides,
        (side) => side.run(),
        showDrain,
      );
      const [ours, peer, celery] = sides.map((s) => median(r[s.name].map((x) => x.jobsPerSecond)));
      if (processes === 1) {
        const [oursRss, peerRss] = sides.map((s) => Math.max(...r[s.name].map((x) => x.rssMb)));
        rows.push([
          `peak RSS of a worker draining ${tasks} tasks (MB)`,
          oursRss,
          peerRss,
          'plain BullMQ Worker',
          '< 200 MB',
        ]);
      } else {
        for (const side of sides) splitOf(`drain, ${side.name}:`, r[side.name]);
      }
      const figure =
        processes === 1
          ? `drain of ${tasks} no-op tasks, 1 worker process, tasks/s`
          : `drain of ${tasks} no-op tasks, whole machine (${processes} worker processes), tasks/s`;
      rows.push([
        figure,
        ours,
        peer,
        processes === 1 ? 'plain BullMQ Worker' : `plain BullMQ Worker, ${processes} processes`,
        '≥ 0.6',
      ]);
      rows.push([
        figure,
        ours,
        celery,
        processes === 1
          ? 'one Celery worker, prefork, 1 pool process'
          : `one Celery worker, prefork, ${processes} pool processes`,
        '≥ 5',
      ]);
    }
  }
  if (runs('line')) {
    section('line');
    const stamped: number[] = [];
    const bare: number[] = [];
    const winstonNs: number[] = [];
    for (let rep = 0; rep < CLOSE_REPETITIONS; rep++) {
      // Rotate which goes first, so that none always runs on a warmer machine.
      const order = [
        () => stamped.push(timeLines('stamped', LINES)),
        () => bare.push(timeLines('bare', LINES)),
        () => winstonNs.push(timeLines('winston', LINES)),
      ];
      for (let i = 0; i < order.length; i++) order[(rep + i) % order.length]?.();
    }
    log(
      `line: stamped ${median(stamped).toFixed(0)} ns, bare pino ${median(bare).toFixed(0)} ns, winston ${median(winstonNs).toFixed(0)} ns`,
    );
    rows.push([
      `one log line, ns (${LINES.toLocaleString('en')} to /dev/null)`,
      median(stamped),
      median(bare),
      'bare pino, same message',
      '≤ 1.3',
    ]);
    rows.push([
      `one log line, ns (${LINES.toLocaleString('en')} to /dev/null)`,
      median(stamped),
      median(winstonNs),
      'winston, same fields, JSON',
      '≤ 0.5',
    ]);
  }

  if (runs('ship')) {
    section('ship');
    installBenchTemplate();
    const shipSides = [
      { name: 'Threadline shipper', mode: 'threadline' as const },
      { name: 'raw _bulk', mode: 'bulk' as const },
    ];
    const rates: Record<string, number[]> = {};
    for (let rep = 1; rep <= REPETITIONS; rep++) {
      for (const side of rep % 2 ? shipSides : [...shipSides].reverse()) {
        const r = await shipChild(side.mode, SHIP_LINES);
        (rates[side.name] ??= []).push(r.linesPerSecond);
        log(`ship ${rep}/${REPETITIONS} ${side.name}: ${r.linesPerSecond.toFixed(0)} lines/s`);
      }
    }
    rows.push([
      `${SHIP_LINES.toLocaleString('en')} API lines into Elasticsearch, lines/s`,
      median(rates['Threadline shipper'] ?? []),
      median(rates['raw _bulk'] ?? []),
      'raw _bulk of the same lines, 1 MiB requests',
      '≥ 0.8',
    ]);
    const { result: r, pinned } = await withElasticsearchApart(() =>
      alternate('shipping', shippingSides, submitOnce, show, quick ? 1 : 5),
    );
    const [on, off] = shippingSides.map((side) => r[side.name]);
    shippingPinned = pinned;
    rows.push([
      'POST /api/v1/tasks with shipping on, requests/s',
      median(on.map((x) => x.rps)),
      median(off.map((x) => x.rps)),
      'same API, LOG_SHIPPING=false',
      '≥ 0.85',
    ]);
    const lag = await shipChild('lag', LAG_RATE, undefined, LAG_SECONDS);
    log(`lag: p50 ${lag.p50} ms, p99 ${lag.p99} ms over ${lag.lines} lines`);
    lagRow = `Write-to-searchable lag at ${LAG_RATE} lines/s for ${LAG_SECONDS} s (${lag.lines} lines, searched every 25 ms, refresh interval 1 s): p50 ${lag.p50} ms, p99 ${lag.p99} ms; goal: p99 under 2 s beyond the refresh interval (3,000 ms).`;
  }

  const traceRows: string[] = [];
  const flowRows: string[] = [];
  if (runs('trace')) {
    section('trace');
    for (const figure of await traceBench(root, ES_URL, TRACE, log)) {
      traceRows.push(
        `| trace by ${figure.kind} | ${figure.elasticsearch.p50} | ${figure.elasticsearch.p99} | ≤ 50 (p50) | ${figure.cli.p50} | ${figure.cli.p99} | ≤ 500 |`,
      );
    }
    for (const figure of await flowListBench(root, ES_URL, TRACE, log)) {
      flowRows.push(
        `| flow list, ${figure.query} (${figure.matching.toLocaleString('en')} flows match) | ${figure.elasticsearch.p50} | ≤ 100 | ${figure.elasticsearch.p99} | ≤ 500 |`,
      );
    }
  }

  section();
  log(`all sections done in ${duration(performance.now() - began)}: ${took.join(', ')}`);

  const lines = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\` on ${new Date().toISOString().slice(0, 10)}, in ${duration(performance.now() - began)} (${took.join(', ')}). Medians of ${REPETITIONS} alternating run(s) per side (${CLOSE_REPETITIONS} for context on/off, metrics on/off and the log line).`,
    '',
    '| figure | Threadline | peer | ratio | goal | peer is |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      ([figure, a, b, peer, goal]) =>
        // A peer's p99 under autocannon's 1 ms resolution reads 0: no ratio to show then.
        `| ${figure} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${b > 0 ? (a / b).toFixed(2) : 'n/a (peer < 1 ms)'} | ${goal} | ${peer} |`,
    ),
    '',
    ...(latencyRows.length
      ? [
          `End-to-end latency at ${E2E_RATE} requests/s for ${E2E_SECONDS} s (${E2E_RATE * E2E_SECONDS} echo tasks, an open-loop client): the API with ${SEED_PROCESSES} processes and one worker process on each side (Threadline: concurrency ${WORKER_CONCURRENCY}; Celery: prefork, 1 pool process). Started and completed come from each side's task store (BullMQ's processedOn and finishedOn; the time the Celery task's body began and its result's date_done), measured from when the client sent the request:`,
          '',
          '| latency (ms) | Threadline p50 | p99 | Celery p50 | p99 | p99 ratio | goal |',
          '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
          ...latencyRows,
          '',
        ]
      : []),
    ...(metricsNote ? [metricsNote, ''] : []),
    ...(lagRow ? [lagRow, ''] : []),
    ...(traceRows.length
      ? [
          `\`threadline trace\` over ${TRACE.stream} (${(TRACE.flows * 100).toLocaleString('en')} lines, ${TRACE.flows.toLocaleString('en')} flows of 100 lines), ${TRACE.samples} random IDs of each kind; Elasticsearch time is the sum of the searches' \`took\`, CLI time the wall time of one \`threadline trace --format json\` process:`,
          '',
          '| trace | Elasticsearch p50 (ms) | p99 | goal | CLI wall p50 (ms) | p99 | goal |',
          '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
          ...traceRows,
          '',
        ]
      : []),
    ...(flowRows.length
      ? [
          `The flow list (GET /api/v1/flows, \`threadline flows\`: bench/flows.mts) over the same data, its last hour, ${TRACE.samples} times each, 20 flows a page; Elasticsearch time is the sum of its searches' \`took\`:`,
          '',
          '| flow list | Elasticsearch p50 (ms) | goal | p99 | goal |',
          '| --- | ---: | ---: | ---: | ---: |',
          ...flowRows,
          '',
        ]
      : []),
    ...(shippingPinned
      ? [
          'Shipping on/off: Elasticsearch pinned to the last core, the API and autocannon to the others (taskset), on both sides: the figure is what shipping costs the API itself.',
          '',
        ]
      : []),
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.versions.node}; Redis ${redisVersion()}; BullMQ ${version('bullmq')}; NestJS ${version('@nestjs/core')}; pino ${version('pino')}.`,
    `Submit: autocannon, ${CONNECTIONS} connections (2 per core), ${SUBMIT_SECONDS} s per run after ${WARMUP_SECONDS} s of uncounted warm-up (also before each latency run), echo tasks, no Idempotency-Key, LOG_LEVEL=info with output to a file. Drain: one worker process, concurrency ${WORKER_CONCURRENCY} on the BullMQ sides and a prefork pool of 1 process for Celery (its default prefetch of 4, late acknowledgement, results kept 7 days, INFO logging to a file); the whole machine: ${MACHINE_WORKERS} worker processes of concurrency ${WORKER_CONCURRENCY} on the BullMQ sides (Threadline as \`WORKERS=${MACHINE_WORKERS} npm start\` runs them) and one Celery worker with a prefork pool of ${MACHINE_WORKERS} processes. BullMQ sides: tasks queued while the queue is paused, the workers started, timed from the resume to the last completion; Celery: tasks queued before the worker starts, timed from its ready line to the last stored result.`,
    'Peak RSS: the high-water mark of the whole process (VmHWM in /proc/<pid>/status, every thread and the heap, native memory included), read at the end of the measured load: the one API process under submit, the one worker process after its drain, on each side.',
    ...(splits.length
      ? [
          `Each process really works: how the CPU time of each measured run split over a side's processes (from /proc/<pid>/stat; processes under 1% left out): ${splits.join('; ')}.`,
        ]
      : []),
    ...(remeasured.length
      ? [
          `A submit load on ${SEED_PROCESSES} processes whose connections all but missed one process is measured again (up to ${SPREAD_TRIES} times; each process accepts every connection pending when it wakes, so ${CONNECTIONS} connections can land on one): ${remeasured.join('; ')}.`,
        ]
      : []),
    `The seed's stack: FastAPI ${pythonVersion('fastapi')}, uvicorn ${pythonVersion('uvicorn')} and Celery ${pythonVersion('celery')} (bench/peers/celery/requirements.txt) on the same Redis (database 15); both sides log one line per submit, and Threadline also ships its lines to Elasticsearch on the same machine.`,
    '',
    'What the ratios mean: the submit peer does only `queue.add`, so the gap is the price of validation, problem documents, correlation and logging; the drain peer serves one queue and logs nothing, so the gap is the price of strict priority across three queues and of the lifecycle lines; the log line compares a line stamped with the flow context in ECS form with a bare pino line.',
    `Shipping: Elasticsearch ${ES_URL} on the same machine (the embedded node, docs/elasticsearch-node.md), so it competes with the API for the cores. The shipper side is timed from its first log call to its last delivered line (stdout to /dev/null, every line through the on-disk spool); the raw side sends the same lines, made by the same logger, as _bulk create requests of the same size, one at a time, timed from first request to last answer. The API runs in the other figures with shipping on (the default), into ${BENCH_STREAM}.`,
    '',
  ];
  await python?.close();
  // The cluster section is bench:cluster's (bench/cluster.mts), the profile section
  // bench:profile's (bench/profile.mts): both kept as they are.
  const previous = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
  let text = lines.join('\n');
  for (const [open, close] of [
    [SECTION_START, SECTION_END],
    [PROFILE_START, PROFILE_END],
  ]) {
    const kept = sectionOf(previous, open, close);
    if (kept !== undefined) text = withSection(text, open, close, kept);
  }
  writeFileSync(OUT, text);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  // Exit once the reason is written: connections left open by the section that failed must
  // not keep the process (and CI's smoke test) waiting.
  process.stderr.write(`[bench] ${error instanceof Error ? error.message : String(error)}\n`, () =>
    process.exit(1),
  );
});
