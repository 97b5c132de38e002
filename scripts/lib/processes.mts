import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ScriptError } from './say.mts';

/**
 * Starts `command` in its own process group, writing its output to `logFile`, so that it
 * outlives the script that started it and a Ctrl-C in the terminal does not reach it directly.
 */
export function spawnDetached(command: string, args: readonly string[], logFile: string): number {
  mkdirSync(dirname(logFile), { recursive: true });
  const out = openSync(logFile, 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out] });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  child.unref();
  return child.pid;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL if the process is still there after `graceMs`. */
export async function stopProcess(pid: number, graceMs = 20_000): Promise<'stopped' | 'killed'> {
  if (!isAlive(pid)) return 'stopped';
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'stopped';
    await sleep(100);
  }
  process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(50);
  return 'killed';
}

/** Polls `probe` until it returns true; calls `onWait` with the seconds waited, every 5 s. */
export async function waitUntil(
  probe: () => Promise<boolean>,
  options: {
    topic: string;
    timeoutMs: number;
    abortIf?: () => string | undefined;
    onWait?: (s: number) => void;
  },
): Promise<boolean> {
  const started = Date.now();
  let lastReport = started;
  while (Date.now() - started < options.timeoutMs) {
    if (await probe()) return true;
    const reason = options.abortIf?.();
    if (reason !== undefined) throw new ScriptError(options.topic, reason);
    if (Date.now() - lastReport >= 5000) {
      lastReport = Date.now();
      options.onWait?.(Math.round((lastReport - started) / 1000));
    }
    await sleep(250);
  }
  return false;
}

/** The last `lines` lines of a log file, for error messages. */
export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** True when `command` is on the PATH. */
export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Loopback hosts: the only ones on which the scripts start a service themselves. */
export function isLoopback(hostname: string): boolean {
  return ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(hostname);
}
