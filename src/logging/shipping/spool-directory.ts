import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmdirSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { FOLDER_MODE, SpoolLease, isLeaseFree, markerProblem, writeMarker } from './spool-lease';

const ADOPTED = 'adopted-';
/** The name of a process's folder: its start time and a random part (TransportShipper makes it). */
const INSTANCE = /^[0-9a-z]+-[0-9a-f]{8}$/;
/** Files the spool writes in a spool folder; nothing else is ever deleted. */
const SPOOL_FILE =
  /^(\d{10}\.ndjson|cursor|cursor\.tmp|spool\.json|spool\.json\.tmp|lease\.json|lease\.json\.tmp)$/;
/** Files the shipper writes in the root, beside the spool folders. */
const ROOT_FILE = /^dead-letter\.ndjson$/;

/**
 * The spool root that every Threadline process of a machine (or a volume) shares: one folder
 * per process, `<root>/<instance>/`, holding its spool, the spool's marker and its lease
 * (spool-lease.ts).
 *
 * A process that stops with lines undelivered leaves its folder behind; the next process to
 * start adopts it (an atomic rename into its own folder, so that two starting processes never
 * both take it) and delivers those lines before its own. Only folders with the spool's marker
 * and a free lease are adopted; anything else in the root is never moved or deleted, and the
 * process refuses to start beside it ({@link foreignEntries}).
 */
export class SpoolDirectory {
  readonly own: string;
  private readonly lease = new SpoolLease();

  constructor(
    readonly root: string,
    readonly instance: string,
  ) {
    this.own = join(root, instance);
  }

  /** Creates this process's folder, marker and lease first, so that nobody takes it for left. */
  claim(): void {
    mkdirSync(this.root, { recursive: true, mode: FOLDER_MODE });
    const staging = join(this.root, `.${this.instance}`);
    mkdirSync(staging, { mode: FOLDER_MODE });
    // The lease before the marker: a marked folder always has an owner.
    this.lease.write(staging);
    writeMarker(staging);
    renameSync(staging, this.own);
  }

  /**
   * Renews this process's lease. False when its folder is not its own any more: another
   * process took it for left behind (this one missed its lease), and is delivering it.
   */
  renew(): boolean {
    return this.lease.renew(this.own);
  }

  /**
   * Moves every left-behind spool folder into this one; returns the spools now owned, oldest
   * first (`adopted-<instance>` folders).
   */
  adoptLeftBehind(now = Date.now()): string[] {
    for (const name of readdirSync(this.root)) {
      const dir = join(this.root, name);
      const staging = name.startsWith('.');
      if (!INSTANCE.test(staging ? name.slice(1) : name) || name === this.instance) continue;
      if (!lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) continue;
      if (markerProblem(dir) !== undefined || !isLeaseFree(dir, now)) continue;
      // A process that died while claiming its folder: nothing was spooled there yet.
      if (staging) {
        removeSpoolFolder(dir);
        continue;
      }
      const target = join(this.own, `${ADOPTED}${name}`);
      try {
        renameSync(dir, target);
      } catch {
        continue; // Another process adopted it first.
      }
      this.lease.release(target);
      this.flatten(target);
    }
    return this.adopted();
  }

  /**
   * Moves the spools a dead process had adopted up into this folder, at any depth: a process
   * killed while adopting leaves them one level deeper than it meant to.
   */
  private flatten(dir: string): void {
    for (const inner of readdirSync(dir)) {
      if (!inner.startsWith(ADOPTED) || markerProblem(join(dir, inner)) !== undefined) continue;
      const moved = join(this.own, inner);
      renameSync(join(dir, inner), moved);
      this.flatten(moved);
    }
  }

  /** Adopted spools in this folder, oldest first. */
  adopted(): string[] {
    if (!existsSync(this.own)) return [];
    return readdirSync(this.own)
      .filter(
        (name) => name.startsWith(ADOPTED) && markerProblem(join(this.own, name)) === undefined,
      )
      .sort()
      .map((name) => join(this.own, name));
  }

  /**
   * Leaves the folder: deleted when nothing is left to deliver, else handed over to the next
   * process to start (the lease goes, so it is taken at once).
   */
  release(empty: boolean): void {
    if (empty && removeSpoolFolder(this.own)) return;
    this.lease.release(this.own);
  }
}

/**
 * Deletes a delivered spool folder: the files the spool writes, then the folder itself. What
 * else is found there stays, and so does the folder (false).
 */
export function removeSpoolFolder(dir: string): boolean {
  if (!existsSync(dir)) return true;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isFile() && SPOOL_FILE.test(entry.name)) unlinkSync(path);
    else if (entry.isDirectory() && entry.name.startsWith(ADOPTED)) {
      if (markerProblem(path) === undefined) removeSpoolFolder(path);
    }
  }
  try {
    rmdirSync(dir);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Everything in the spool root that the spool did not make, each with what it is: the
 * spool never adopts or deletes those, and a process refuses to start beside them.
 */
export function foreignEntries(root: string): string[] {
  if (!existsSync(root)) return [];
  const found: string[] = [];
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    const stat = lstatSync(path);
    if (stat.isFile() && ROOT_FILE.test(name)) continue;
    const staging = name.startsWith('.');
    if (!stat.isDirectory()) {
      found.push(`${name} (${stat.isFile() ? 'a file' : 'neither a file nor a folder'})`);
    } else if (!INSTANCE.test(staging ? name.slice(1) : name)) {
      found.push(`${name}/ (a folder the spool did not make)`);
    } else foreignInSpool(path, name, staging, found);
  }
  return found;
}

/** A folder being claimed (`staging`) may not have its marker yet, and holds no folder. */
function foreignInSpool(dir: string, shown: string, staging: boolean, found: string[]): void {
  const problem = markerProblem(dir);
  if (problem !== undefined && !staging) {
    found.push(`${shown}/ (${problem})`);
    return;
  }
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const inner = `${shown}/${entry.name}`;
    if (entry.isFile() && SPOOL_FILE.test(entry.name)) continue;
    if (!staging && entry.isDirectory() && entry.name.startsWith(ADOPTED)) {
      foreignInSpool(path, inner, false, found);
    } else found.push(`${inner}${entry.isDirectory() ? '/' : ''} (not written by the spool)`);
  }
}
