import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';

const OWNER_FILE = 'owner.json';
const ADOPTED = 'adopted-';
/** An owner that has not touched its owner file for this long is gone (a crashed host, say). */
export const OWNER_LEASE_MS = 60_000;
/** How often a live owner touches its owner file. */
export const OWNER_TOUCH_MS = 10_000;

interface Owner {
  pid: number;
  host: string;
}

/**
 * The spool root that every Threadline process of a machine (or a volume) shares: one
 * directory per process, `<root>/<instance>/`, holding its spool and an owner file.
 *
 * A process that stops with lines undelivered leaves its directory behind; the next process
 * to start adopts it (an atomic rename into its own directory, so that two starting processes
 * never both take it) and delivers those lines before its own. A directory is left behind when
 * its owner file is gone (a clean stop), its owner process no longer runs on this host, or its
 * owner has not touched the file for {@link OWNER_LEASE_MS}.
 */
export class SpoolDirectory {
  readonly own: string;

  constructor(
    readonly root: string,
    readonly instance: string,
  ) {
    this.own = join(root, instance);
  }

  /** Creates this process's directory, owner file first, so that nobody takes it for left. */
  claim(): void {
    claimedHere.add(this.instance);
    mkdirSync(this.root, { recursive: true });
    const staging = join(this.root, `.${this.instance}`);
    mkdirSync(staging);
    const owner: Owner = { pid: process.pid, host: hostname() };
    writeFileSync(join(staging, OWNER_FILE), JSON.stringify(owner));
    renameSync(staging, this.own);
  }

  /**
   * Tells other processes this directory is still owned. False when it is not there any more:
   * another process took it for left behind (this one missed its lease), and is delivering it.
   */
  touch(): boolean {
    const now = new Date();
    try {
      utimesSync(join(this.own, OWNER_FILE), now, now);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /**
   * Moves every left-behind directory into this one; returns the spools now owned, oldest
   * first (`adopted-<instance>` directories).
   */
  adoptLeftBehind(now = Date.now()): string[] {
    for (const name of readdirSync(this.root)) {
      if (name.startsWith('.') || name === this.instance) continue;
      const dir = join(this.root, name);
      if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) continue;
      if (!isLeftBehind(dir, now)) continue;
      const target = join(this.own, `${ADOPTED}${name}`);
      try {
        renameSync(dir, target);
      } catch {
        continue; // Another process adopted it first.
      }
      rmSync(join(target, OWNER_FILE), { force: true });
      this.flatten(target);
    }
    return this.adopted();
  }

  /**
   * Moves the spools a dead process had adopted up into this directory, at any depth: a
   * process killed while adopting leaves them one level deeper than it meant to, and a spool
   * directory is deleted whole once delivered.
   */
  private flatten(dir: string): void {
    for (const inner of readdirSync(dir)) {
      if (!inner.startsWith(ADOPTED)) continue;
      const moved = join(this.own, inner);
      renameSync(join(dir, inner), moved);
      this.flatten(moved);
    }
  }

  /** Adopted spools in this directory, oldest first. */
  adopted(): string[] {
    if (!existsSync(this.own)) return [];
    return readdirSync(this.own)
      .filter((name) => name.startsWith(ADOPTED))
      .sort()
      .map((name) => join(this.own, name));
  }

  /**
   * Leaves the directory: deleted when nothing is left to deliver, else handed over to the
   * next process to start (the owner file goes, so it is taken at once).
   */
  release(empty: boolean): void {
    claimedHere.delete(this.instance);
    if (empty) rmSync(this.own, { recursive: true, force: true });
    else rmSync(join(this.own, OWNER_FILE), { force: true });
  }
}

/** Directories claimed by this process: never left behind while it runs, whatever their pid. */
const claimedHere = new Set<string>();

function isLeftBehind(dir: string, now: number): boolean {
  if (claimedHere.has(basename(dir)) && existsSync(join(dir, OWNER_FILE))) return false;
  const file = join(dir, OWNER_FILE);
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat) return true;
  if (now - stat.mtimeMs > OWNER_LEASE_MS) return true;
  let owner: Owner;
  try {
    owner = JSON.parse(readFileSync(file, 'utf8')) as Owner;
  } catch {
    return true;
  }
  if (owner.host !== hostname()) return false;
  // In a container, a restarted process often gets its predecessor's pid.
  return owner.pid === process.pid || !isRunning(owner.pid);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
