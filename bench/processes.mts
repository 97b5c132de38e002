// Processes under test: started with their output in a file (never a pipe this process must
// drain), waited for by what they print or by their port, measured, and stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const scratch = mkdtempSync(join(tmpdir(), 'threadline-bench-'));

const began = performance.now();

/** A progress line on stderr, with the time since the run began. */
export const log = (line: string): void =>
  void process.stderr.write(`[bench ${duration(performance.now() - began)}] ${line}\n`);

/** Milliseconds as minutes and seconds: 1m05s, or 42s. */
export function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  return minutes > 0 ? `${minutes}m${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;
}

export interface Spawned {
  child: ChildProcess;
  /** Everything the process wrote so far. */
  output(): string;
}

export function spawnLogged(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Spawned {
  const file = join(scratch, `${randomUUID()}.log`);
  const fd = openSync(file, 'w');
  const child = spawn(command, args, { ...options, stdio: ['ignore', fd, fd] });
  return { child, output: () => readFileSync(file, 'utf8') };
}

export async function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Resolves once the process printed `marker` (`times` times: one per process of a group). */
export async function printed(spawned: Spawned, marker: string, times = 1): Promise<void> {
  for (;;) {
    if (spawned.output().split(marker).length > times) return;
    if (spawned.child.exitCode !== null)
      throw new Error(`exited before "${marker}":\n${spawned.output()}`);
    await sleep(20);
  }
}

export async function listening(spawned: Spawned, port: number): Promise<void> {
  for (;;) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      if (spawned.child.exitCode !== null) throw new Error(`exited:\n${spawned.output()}`);
      await sleep(50);
    }
  }
}

/** The process's peak resident memory so far, in MB (Linux: VmHWM), or NaN elsewhere. */
export function peakRssMb({ child }: { child: { pid?: number } }): number {
  try {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]);
    return kb / 1024;
  } catch {
    return Number.NaN;
  }
}

/**
 * A process's /proc/<pid>/stat fields after its name (field 3 on), or with `tid` one of its
 * threads' (/proc/<pid>/task/<tid>/stat, the same fields); undefined once gone.
 */
function statFields(pid: number, tid?: number): string[] | undefined {
  try {
    const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
    const stat = readFileSync(path, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** `pid` and every process below it (Linux: from /proc), or only `pid` elsewhere. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [pid];
  }
  for (const entry of entries) {
    const parent = Number(statFields(Number(entry))?.[1]);
    if (Number.isInteger(parent)) {
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree;
}

/**
 * CPU seconds (user and system) a process used so far, or with `tid` one of its threads; 0
 * once it is gone.
 */
export function cpuSeconds(pid: number, tid?: number): number {
  const fields = statFields(pid, tid);
  // utime and stime are fields 14 and 15, in clock ticks (100 a second on Linux).
  return fields ? (Number(fields[11]) + Number(fields[12])) / 100 : 0;
}

/**
 * How the CPU time of `pids` since `before` (cpuSeconds of each, same order) split over them:
 * whole per cents, largest first, leaving out processes that used under 1%. [52, 48] says two
 * processes really shared the load; [100] that one did it all.
 */
export function cpuSplit(pids: number[], before: number[]): number[] {
  const used = pids.map((pid, i) => Math.max(0, cpuSeconds(pid) - (before[i] ?? 0)));
  const total = used.reduce((a, b) => a + b, 0);
  if (total === 0) return [];
  return used
    .filter((u) => u / total >= 0.01)
    .sort((a, b) => b - a)
    .map((u) => Math.round((100 * u) / total));
}

export async function stop({ child }: Spawned): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The p-th fraction (0..1) of values, by rank, or 0 when there are none. */
export const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
};
