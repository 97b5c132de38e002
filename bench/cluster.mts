// npm run bench:cluster [-- --quick | --smoke] [-- --out FILE]: Threadline on one Redis and
// on a Redis Cluster (three masters, a replica each, on this machine), side by side in one run.
//
//   drain:  no-op tasks queued on `medium` (the queue paused), then 1, 2 and 3 worker
//           processes started, the queue resumed and timed to the last completion
//   submit: POST /api/v1/tasks on one API process; on the cluster with REDIS_WAIT_REPLICAS=1
//           (the default there: a replica confirms each task) and with 0
//   shards: on the cluster, REDIS_SHARDS=1 against 3: the same tasks submitted through one
//           API and run by three workers, timed, with each master's commands and CPU time
//           (INFO commandstats, INFO cpu) over the run, which should split about evenly
//           with 3 shards and land on one master with 1
//
// Each figure is the median of alternating runs; the section between the cluster markers of
// bench/RESULTS.md (or --out) is replaced, the rest of the file kept. These machines are
// shared and have two cores: the Redis nodes, the workers and the load generator compete for
// them, so the curve flattens early; the ratios are what to read.
import { Queue } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NODE_FLAGS, RUNTIME_ENV } from '../scripts/lib/node-flags.mts';
import { startRedisCluster, stopRedisCluster } from '../scripts/lib/redis-cluster.mts';
import type { Spawned } from './processes.mts';
import { freePort, listening, log, median, printed } from './processes.mts';
import { scratch, spawnLogged, stop } from './processes.mts';
import { redisCounters } from './cpu-budget.mts';
import { argument, root, size } from './options.mts';
import { submitLoad } from './submit-load.mts';

const REPETITIONS = size(3, 1, 1);
const DRAIN_TASKS = size(10_000, 2_000, 200);
const SHARD_TASKS = size(10_000, 2_000, 200);
const SHARD_WORKERS = 3;
/** How far from an even split a master's share may be with 3 shards: ±15% of a third. */
const EVEN_SPLIT = 0.15;
const SUBMIT_SECONDS = size(10, 3, 1);
const WARMUP_SECONDS = size(2, 1, 0);
const WORKER_COUNTS = [1, 2, 3];
const WORKER_CONCURRENCY = 8;
const CONNECTIONS = 2 * cpus().length;
const CLUSTER_PORT = 7500;
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const OUT = resolve(argument('--out') ?? join(root, 'bench', 'RESULTS.md'));
export const SECTION_START = '<!-- bench:cluster -->';
export const SECTION_END = '<!-- /bench:cluster -->';

/** Where the processes under test keep their tasks: the env that points them there. */
interface Topology {
  name: string;
  env: Record<string, string>;
  /** The key prefix BullMQ sees for REDIS_PREFIX `prefix` (in braces on a cluster). */
  keyPrefix(prefix: string): string;
  client(): Redis | Cluster;
}

function node(args: string[], env: Record<string, string>): Spawned {
  return spawnLogged(process.execPath, [...NODE_FLAGS, ...args], {
    cwd: root,
    env: {
      ...process.env,
      ...RUNTIME_ENV,
      LOG_LEVEL: 'info',
      LOG_DATA_STREAM: 'logs-threadline-bench',
      LOG_SPOOL_DIR: join(scratch, 'spool'),
      ...env,
    },
  });
}

/** Deletes the run's keys, those matching `<start>*`: one SCAN per master. */
async function clean(
  topology: Topology,
  keyPrefix: string,
  start = `${keyPrefix}:`,
): Promise<void> {
  const client = topology.client();
  const masters = client instanceof Cluster ? client.nodes('master') : [client];
  for (const master of masters) {
    let cursor = '0';
    do {
      const [next, keys] = await master.scan(cursor, 'MATCH', `${start}*`, 'COUNT', 5000);
      // One DEL per key: with shards, a page may hold keys of several slots.
      if (keys.length > 0) await keys.reduce((p, key) => p.del(key), master.pipeline()).exec();
      cursor = next;
    } while (cursor !== '0');
  }
  client.disconnect();
}

/** Drains DRAIN_TASKS no-op tasks with `workers` worker processes; tasks per second. */
async function drainOnce(topology: Topology, workers: number): Promise<number> {
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const keyPrefix = topology.keyPrefix(prefix);
  const connection = topology.client();
  const queue = new Queue('medium', { connection, prefix: keyPrefix });
  const spawned: Spawned[] = [];
  try {
    // Paused while the workers start, so that all of them meet the whole backlog.
    await queue.pause();
    for (let i = 0; i < DRAIN_TASKS; i += 500) {
      const n = Math.min(500, DRAIN_TASKS - i);
      await queue.addBulk(
        Array.from({ length: n }, () => ({
          name: 'echo',
          data: { input: {}, meta: { submitted_at: new Date().toISOString() } },
          opts: { jobId: randomUUID(), priority: 50, removeOnComplete: { age: 3600 } },
        })),
      );
    }
    for (let i = 0; i < workers; i++) {
      spawned.push(
        node([join('dist', 'worker.js')], {
          ...topology.env,
          REDIS_PREFIX: prefix,
          WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
        }),
      );
    }
    await Promise.all(spawned.map((s) => printed(s, 'taking tasks from')));
    const started = performance.now();
    await queue.resume();
    for (;;) {
      const { completed, failed } = await queue.getJobCounts('completed', 'failed');
      if (failed > 0) throw new Error(`${topology.name}: ${failed} tasks failed`);
      if (completed >= DRAIN_TASKS) break;
      await sleep(25);
    }
    return DRAIN_TASKS / ((performance.now() - started) / 1000);
  } finally {
    await Promise.all(spawned.map(stop));
    await queue.close();
    // BullMQ leaves a connection it was given open.
    connection.disconnect();
    await clean(topology, keyPrefix);
  }
}

/** Requests per second and p99 of POST /api/v1/tasks on one API process. */
async function submitOnce(
  topology: Topology,
  env: Record<string, string>,
): Promise<{ rps: number; p99: number }> {
  const port = await freePort();
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const api = node([join('dist', 'main.js')], {
    ...topology.env,
    ...env,
    PORT: String(port),
    REDIS_PREFIX: prefix,
    // A benchmark is one client submitting far more than a worker drains.
    QUOTA_TASKS_PER_CLIENT: '1000000',
  });
  try {
    await listening(api, port);
    return await submitLoad(topology.name, port, {
      connections: CONNECTIONS,
      seconds: SUBMIT_SECONDS,
      warmupSeconds: WARMUP_SECONDS,
    });
  } finally {
    await stop(api);
    await clean(topology, topology.keyPrefix(prefix));
  }
}

/** One master's share of the Redis work of a sharded run. */
interface MasterShare {
  port: number;
  commands: number;
  cpuSeconds: number;
}

/** One run of the shard comparison: tasks/s end to end, submits/s, and each master's work. */
interface ShardRun {
  throughput: number;
  submitRps: number;
  masters: MasterShare[];
}

/** Each master's counters now, by port. */
async function masterCounters(
  ports: readonly number[],
): Promise<Map<number, Awaited<ReturnType<typeof redisCounters>>>> {
  const counters = await Promise.all(
    ports.map(async (port) => {
      const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
      try {
        await redis.connect();
        return [port, await redisCounters(redis)] as const;
      } finally {
        redis.disconnect();
      }
    }),
  );
  return new Map(counters);
}

/** The cluster's masters' ports now (a failover moves them). */
async function masterPorts(topology: Topology): Promise<number[]> {
  const client = topology.client();
  try {
    if (!(client instanceof Cluster)) throw new Error('shard runs need the cluster');
    await client.ping();
    return client.nodes('master').map((master) => Number(master.options.port));
  } finally {
    client.disconnect();
  }
}

/**
 * SHARD_TASKS echo tasks submitted through one API process (16 at a time) and run by
 * SHARD_WORKERS workers, all with REDIS_SHARDS=`shards`: timed from the first submit to the
 * last completion, with what each master did meanwhile.
 */
async function shardOnce(topology: Topology, shards: number): Promise<ShardRun> {
  const port = await freePort();
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const env = { ...topology.env, REDIS_PREFIX: prefix, REDIS_SHARDS: String(shards) };
  const api = node([join('dist', 'main.js')], {
    ...env,
    PORT: String(port),
    QUOTA_TASKS_PER_CLIENT: '1000000',
  });
  const workers = Array.from({ length: SHARD_WORKERS }, () =>
    node([join('dist', 'worker.js')], { ...env, WORKER_CONCURRENCY: String(WORKER_CONCURRENCY) }),
  );
  try {
    await listening(api, port);
    await Promise.all(workers.map((w) => printed(w, 'taking tasks from')));
    const ports = await masterPorts(topology);
    const before = await masterCounters(ports);
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < SHARD_TASKS) {
          next++;
          const reply = await fetch(`http://127.0.0.1:${port}/api/v1/tasks`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"type":"echo","data":{"message":"bench"}}',
          });
          if (reply.status !== 202)
            throw new Error(`submit: ${reply.status} ${await reply.text()}`);
        }
      }),
    );
    const submitted = performance.now();
    for (;;) {
      const reply = await fetch(`http://127.0.0.1:${port}/api/v1/queues`);
      const { queues } = (await reply.json()) as {
        queues: Record<string, { completed: number; failed: number }>;
      };
      const done = Object.values(queues).reduce((sum, q) => sum + q.completed, 0);
      if (Object.values(queues).some((q) => q.failed > 0)) throw new Error('a task failed');
      if (done >= SHARD_TASKS) break;
      await sleep(50);
    }
    const finished = performance.now();
    const after = await masterCounters(ports);
    return {
      throughput: SHARD_TASKS / ((finished - started) / 1000),
      submitRps: SHARD_TASKS / ((submitted - started) / 1000),
      masters: ports.map((p) => ({
        port: p,
        commands: (after.get(p)?.commands ?? 0) - (before.get(p)?.commands ?? 0),
        cpuSeconds: (after.get(p)?.cpuSeconds ?? 0) - (before.get(p)?.cpuSeconds ?? 0),
      })),
    };
  } finally {
    await Promise.all([api, ...workers].map(stop));
    // The shards' keys are under {prefix:i} (or {prefix:i.j}: src/config/shards.ts).
    await clean(topology, topology.keyPrefix(prefix));
    await clean(topology, prefix, `{${prefix}:`);
  }
}

/** Each master's share of `runs`' `what`, the median over the runs, highest first. */
function shares(runs: ShardRun[], what: 'commands' | 'cpuSeconds'): number[] {
  const perRun = runs.map((run) => {
    const total = run.masters.reduce((sum, m) => sum + m[what], 0);
    return run.masters.map((m) => (total > 0 ? m[what] / total : 0)).sort((a, b) => b - a);
  });
  return perRun[0].map((_, i) => median(perRun.map((run) => run[i] ?? 0)));
}

/** The shard comparison's rows: REDIS_SHARDS=1 against 3, on the cluster. */
async function shardRows(clustered: Topology): Promise<{ rows: string[]; even: boolean }> {
  const [one, three] = await alternate(
    'shards',
    [1, 3].map((shards) => ({
      topology: { ...clustered, name: `REDIS_SHARDS=${shards}` },
      run: () => shardOnce(clustered, shards),
    })),
    (r) =>
      `${r.throughput.toFixed(0)} tasks/s, submits ${r.submitRps.toFixed(0)}/s, commands per master ${r.masters.map((m) => m.commands).join('/')}`,
  );
  const ratio = (a: number, b: number): string => (b > 0 ? (a / b).toFixed(2) : 'n/a');
  const med = (runs: ShardRun[], what: 'throughput' | 'submitRps'): number =>
    median(runs.map((r) => r[what]));
  const perTask = (runs: ShardRun[], what: 'commands' | 'cpuSeconds', scale = 1): number =>
    median(runs.map((r) => (r.masters.reduce((sum, m) => sum + m[what], 0) * scale) / SHARD_TASKS));
  const percent = (xs: number[]): string => xs.map((x) => `${(x * 100).toFixed(0)}%`).join(' / ');
  const [cmd1, cmd3, cpu1, cpu3] = [
    shares(one, 'commands'),
    shares(three, 'commands'),
    shares(one, 'cpuSeconds'),
    shares(three, 'cpuSeconds'),
  ];
  const third = 1 / 3;
  const even = [...cmd3, ...cpu3].every((share) => Math.abs(share - third) <= EVEN_SPLIT * third);
  return {
    even,
    rows: [
      `| ${SHARD_TASKS.toLocaleString('en')} tasks submitted through 1 API and run by ${SHARD_WORKERS} workers, tasks/s end to end | ${med(one, 'throughput').toFixed(0)} | ${med(three, 'throughput').toFixed(0)} | ${ratio(med(three, 'throughput'), med(one, 'throughput'))} |`,
      `| the same, submits/s (16 at a time) | ${med(one, 'submitRps').toFixed(0)} | ${med(three, 'submitRps').toFixed(0)} | ${ratio(med(three, 'submitRps'), med(one, 'submitRps'))} |`,
      `| Redis CPU time per task, all masters (µs): a master's ceiling is 1 s over it | ${perTask(one, 'cpuSeconds', 1e6).toFixed(0)} | ${perTask(three, 'cpuSeconds', 1e6).toFixed(0)} | ${ratio(perTask(three, 'cpuSeconds', 1e6), perTask(one, 'cpuSeconds', 1e6))} |`,
      `| Redis commands per task, all masters | ${perTask(one, 'commands').toFixed(1)} | ${perTask(three, 'commands').toFixed(1)} | ${ratio(perTask(three, 'commands'), perTask(one, 'commands'))} |`,
      // The ratio column: the busiest master's share with 3 shards over that with 1.
      `| share of the commands, per master (highest first) | ${percent(cmd1)} | ${percent(cmd3)} | ${ratio(cmd3[0], cmd1[0])} |`,
      `| share of Redis CPU time, per master (highest first) | ${percent(cpu1)} | ${percent(cpu3)} | ${ratio(cpu3[0], cpu1[0])} |`,
    ],
  };
}

/** Runs `once` for each topology, `REPETITIONS` times, alternating which goes first. */
async function alternate<T>(
  what: string,
  sides: { topology: Topology; run: () => Promise<T> }[],
  show: (r: T) => string,
): Promise<T[][]> {
  const results: T[][] = sides.map(() => []);
  for (let rep = 0; rep < REPETITIONS; rep++) {
    for (let k = 0; k < sides.length; k++) {
      const i = (k + rep) % sides.length;
      const side = sides[i];
      const r = await side.run();
      results[i].push(r);
      log(`${what} ${rep + 1}/${REPETITIONS} ${side.topology.name}: ${show(r)}`);
    }
  }
  return results;
}

async function main(): Promise<void> {
  if (!existsSync(join(root, 'dist', 'worker.js'))) {
    log('building (npm run build)');
    spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  }
  const cluster = await startRedisCluster({ firstPort: CLUSTER_PORT });
  const single: Topology = {
    name: 'one Redis',
    env: { REDIS_URL },
    keyPrefix: (prefix) => prefix,
    client: () => new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
  };
  const clustered: Topology = {
    name: 'Redis Cluster 3+3',
    env: { REDIS_CLUSTER_NODES: cluster.nodeList },
    keyPrefix: (prefix) => `{${prefix}}`,
    client: () =>
      new Cluster(
        cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
        { redisOptions: { maxRetriesPerRequest: null } },
      ),
  };
  const rows: string[] = [];
  let shard: { rows: string[]; even: boolean } | undefined;
  const ratio = (a: number, b: number): string => (b > 0 ? (a / b).toFixed(2) : 'n/a');
  try {
    for (const workers of WORKER_COUNTS) {
      const [one, many] = await alternate(
        `drain, ${workers} worker(s)`,
        [single, clustered].map((topology) => ({
          topology,
          run: () => drainOnce(topology, workers),
        })),
        (r) => `${r.toFixed(0)} tasks/s`,
      );
      const [a, b] = [median(many), median(one)];
      rows.push(
        `| drain of ${DRAIN_TASKS.toLocaleString('en')} tasks, ${workers} worker process(es), tasks/s | ${b.toFixed(0)} | ${a.toFixed(0)} | ${ratio(a, b)} |`,
      );
    }
    const sides = [
      { topology: single, run: () => submitOnce(single, {}) },
      { topology: clustered, run: () => submitOnce(clustered, {}) },
      {
        topology: { ...clustered, name: 'Redis Cluster 3+3, no WAIT' },
        run: () => submitOnce(clustered, { REDIS_WAIT_REPLICAS: '0' }),
      },
    ];
    const [one, wait, noWait] = await alternate(
      'submit',
      sides,
      (r) => `${r.rps.toFixed(0)} req/s, p99 ${r.p99} ms`,
    );
    const rps = (xs: { rps: number }[]): number => median(xs.map((x) => x.rps));
    const p99 = (xs: { p99: number }[]): number => median(xs.map((x) => x.p99));
    rows.push(
      `| POST /api/v1/tasks, 1 API process, requests/s (cluster: a replica confirms each task) | ${rps(one).toFixed(0)} | ${rps(wait).toFixed(0)} | ${ratio(rps(wait), rps(one))} |`,
      `| POST /api/v1/tasks, p99 latency (ms) | ${p99(one)} | ${p99(wait)} | ${ratio(p99(wait), p99(one))} |`,
      `| POST /api/v1/tasks, requests/s, cluster with REDIS_WAIT_REPLICAS=0 (no replica confirms) | ${rps(one).toFixed(0)} | ${rps(noWait).toFixed(0)} | ${ratio(rps(noWait), rps(one))} |`,
    );
    shard = await shardRows(clustered);
  } finally {
    await stopRedisCluster(CLUSTER_PORT);
  }

  const section = [
    SECTION_START,
    '## One Redis against a Redis Cluster',
    '',
    `Written by \`npm run bench:cluster${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\` on ${new Date().toISOString().slice(0, 10)}: medians of ${REPETITIONS} alternating run(s) per side. The cluster is three masters with a replica each (Debian's redis-server, AOF on), all on this ${cpus().length}-core machine with the workers and the load generator; every Threadline key hashes to one slot, so one master does the work and the others stand by (docs/scaling.md).`,
    '',
    '| figure | one Redis | Redis Cluster | ratio |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
    '',
    `Drain: tasks queued while \`medium\` is paused, the worker processes started (concurrency ${WORKER_CONCURRENCY} each), timed from the resume to the last completion. Submit: autocannon, ${CONNECTIONS} connections, ${SUBMIT_SECONDS} s after ${WARMUP_SECONDS} s of warm-up.`,
    '',
    '### Shards on the Redis Cluster',
    '',
    `REDIS_SHARDS=1 puts every key in one hash slot; REDIS_SHARDS=3 spreads the queues over the three masters (docs/scaling.md). Both on the same 3 + 3 cluster, a replica confirming each task, medians of ${REPETITIONS} alternating run(s). On two cores the masters share the CPU with everything else, so the throughput cannot grow here: what predicts it on real hosts is how the work splits, each master's part of the commands and of the Redis CPU time over the run.`,
    '',
    '| figure | REDIS_SHARDS=1 | REDIS_SHARDS=3 | ratio (shares: of the busiest master) |',
    '| --- | ---: | ---: | ---: |',
    ...(shard?.rows ?? []),
    '',
    `With 3 shards every master's share is ${shard?.even ? 'within' : 'NOT within'} ±${EVEN_SPLIT * 100}% of a third.`,
    SECTION_END,
  ].join('\n');
  const before = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
  writeFileSync(OUT, withClusterSection(before, section));
  process.stdout.write(`${section}\n`);
}

/** `text` with its cluster section replaced by `section` (appended when it has none). */
export function withClusterSection(text: string, section: string): string {
  const start = text.indexOf(SECTION_START);
  const end = text.indexOf(SECTION_END);
  if (start >= 0 && end > start) {
    return `${text.slice(0, start)}${section}${text.slice(end + SECTION_END.length)}`;
  }
  return `${text.trimEnd()}\n\n${section}\n`;
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    log(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
