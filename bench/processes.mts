// Processes under test: started with their output in a file (never a pipe this process must
// drain), waited for by what they print or by their port, measured, and stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const scratch = mkdtempSync(join(tmpdir(), 'threadline-bench-'));

export const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

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
export function peakRssMb({ child }: Spawned): number {
  try {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]);
    return kb / 1024;
  } catch {
    return Number.NaN;
  }
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
