// Where the CPU time of one unit of work (a request, a task) goes beyond what a --cpu-prof of
// the main thread shows: every thread of the process, and the Redis server the work runs its
// commands and scripts in. The main thread's profile cannot see V8's GC helper threads, the log
// transport's worker thread, or the Lua that Redis runs for each call, and on a small machine
// these share the cores with the event loop.
import type { Redis } from 'ioredis';
import { readdirSync, readFileSync } from 'node:fs';
import { cpuSeconds } from './processes.mts';

/** The threads of a Node.js process, by what they do. */
export const THREAD_KINDS = ['main', 'helpers', 'pool', 'others'] as const;
export type ThreadKind = (typeof THREAD_KINDS)[number];

/** µs of CPU per unit of work: of each kind of thread of the process, and of Redis. */
export interface CpuBudget {
  threads: Record<ThreadKind, number>;
  /** The Redis server's CPU (INFO cpu: every thread of it, user and system). */
  redis: number;
  /** Of which, time inside scripts (EVAL, EVALSHA, FCALL, as INFO commandstats counts it). */
  scripts: number;
  /** Redis commands per unit, scripts' own calls included. */
  commands: number;
}

/** The threads named by V8 (its GC and compiler helpers) and by libuv (its pool). */
const KIND_BY_NAME = new Map<string, ThreadKind>([
  ['V8Worker', 'helpers'],
  ['libuv-worker', 'pool'],
]);

/**
 * CPU seconds used so far by each kind of thread of process `pid` (Linux: /proc), 0 for each
 * once it is gone. The main thread's id is the process's; V8 names its GC and compiler helpers
 * V8Worker, and libuv its thread pool libuv-worker; the rest are Node.js's own (worker threads
 * such as the log transport's, the inspector, signal handling).
 */
export function threadCpu(pid: number): Record<ThreadKind, number> {
  const used: Record<ThreadKind, number> = { main: 0, helpers: 0, pool: 0, others: 0 };
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return used;
  }
  for (const tid of tids) {
    let name: string;
    try {
      name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    } catch {
      continue; // the thread ended between listing and reading it: what it used is gone with it
    }
    const kind = Number(tid) === pid ? 'main' : (KIND_BY_NAME.get(name) ?? 'others');
    used[kind] += cpuSeconds(pid, Number(tid));
  }
  return used;
}

/** What a Redis server has done since it started: CPU seconds, µs in scripts, commands. */
export interface RedisCounters {
  cpuSeconds: number;
  scriptUs: number;
  commands: number;
}

const SCRIPT_COMMANDS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);

/** A Redis server's counters now (`INFO cpu`, `INFO commandstats`; INFO itself not counted). */
export async function redisCounters(redis: Redis): Promise<RedisCounters> {
  const [cpu, stats] = await Promise.all([redis.info('cpu'), redis.info('commandstats')]);
  const field = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)?.[1]);
  let scriptUs = 0;
  let commands = 0;
  for (const [, name, calls, usec] of stats.matchAll(/cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/g)) {
    if (name === 'info') continue; // these reads themselves
    commands += Number(calls);
    if (SCRIPT_COMMANDS.has(name)) scriptUs += Number(usec);
  }
  return { cpuSeconds: field('used_cpu_user') + field('used_cpu_sys'), scriptUs, commands };
}

/**
 * Runs `work` (which answers how many units it did) and answers the CPU each unit cost the
 * process `pid` and the Redis server `redis` talks to. Redis's figures are the whole server's:
 * nothing else should use it meanwhile.
 */
export async function measureBudget(
  pid: number,
  redis: Redis,
  work: () => Promise<number>,
): Promise<CpuBudget> {
  const threadsBefore = threadCpu(pid);
  const redisBefore = await redisCounters(redis);
  const units = await work();
  const threadsAfter = threadCpu(pid);
  const redisAfter = await redisCounters(redis);
  const per = (amount: number): number => (units > 0 ? amount / units : 0);
  const threads = Object.fromEntries(
    THREAD_KINDS.map((kind) => [kind, per((threadsAfter[kind] - threadsBefore[kind]) * 1e6)]),
  ) as Record<ThreadKind, number>;
  return {
    threads,
    redis: per((redisAfter.cpuSeconds - redisBefore.cpuSeconds) * 1e6),
    scripts: per(redisAfter.scriptUs - redisBefore.scriptUs),
    commands: per(redisAfter.commands - redisBefore.commands),
  };
}

/** Sums a budget's threads: the whole process's µs per unit. */
export const processTotal = (budget: CpuBudget): number =>
  THREAD_KINDS.reduce((sum, kind) => sum + budget.threads[kind], 0);
