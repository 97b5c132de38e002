import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  openSync,
  readFileSync,
  readlinkSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/**
 * Who owns a spool folder, and whether its owner still lives.
 *
 * A folder is the spool's own when it holds {@link MARKER_FILE}, written by the spool with its
 * format and version: nothing else is ever adopted or deleted. Its owner holds a lease
 * ({@link LEASE_FILE}): a random token, renewed every {@link LEASE_RENEW_MS}. Another process
 * may take the folder only when the lease is released (a clean stop), has not been renewed for
 * {@link LEASE_MS}, or names a process of this very machine and pid namespace that is gone. A
 * pid alone never decides: every container's Node is pid 1, so a lease also records the boot,
 * the pid namespace and the process's start time.
 * @see docs/log-shipping.md
 */
export const MARKER_FILE = 'spool.json';
export const LEASE_FILE = 'lease.json';
/** A lease not renewed for this long is free (a crashed host, a frozen process). */
export const LEASE_MS = 60_000;
/** How often an owner renews its lease. */
export const LEASE_RENEW_MS = 10_000;

export const SPOOL_FORMAT = 'threadline-log-spool';
/**
 * The version this Threadline writes. 2: an entry's header is neutral, `{"id":…}`
 * (spool-entry.ts); 1: it was Elasticsearch's `_bulk` action. Both are read, so that lines
 * spooled before an upgrade are delivered; an older Threadline refuses to start beside a
 * version it cannot read, rather than send what it cannot frame.
 */
export const SPOOL_VERSION = 2;
const READABLE_VERSIONS: readonly unknown[] = [1, 2];

/** Folders the spool makes are for its processes alone (lines may hold personal data). */
export const FOLDER_MODE = 0o700;
export const FILE_MODE = 0o600;

interface Marker {
  format: string;
  version: number;
}

/** What tells, on one machine, a running process from a gone one that had the same pid. */
interface ProcessIdentity {
  boot: string;
  pidNamespace: string;
  pid: number;
  startTicks: string;
}

/** The lease file's content; the owner renews it by setting the file's time (no disk space). */
interface LeaseRecord {
  token: string;
  /** Absent where /proc is not there to read. */
  owner?: ProcessIdentity;
}

/** Writes a small file whole or not at all (a temporary file renamed over it), mode 0600. */
export function writeFileAtomic(file: string, content: string): void {
  const temporary = `${file}.tmp`;
  const fd = openSync(temporary, 'w', FILE_MODE);
  try {
    fchmodSync(fd, FILE_MODE);
    const data = Buffer.from(content);
    for (let done = 0; done < data.length;) done += writeSync(fd, data, done);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}

export function writeMarker(dir: string): void {
  const marker: Marker = { format: SPOOL_FORMAT, version: SPOOL_VERSION };
  writeFileAtomic(join(dir, MARKER_FILE), JSON.stringify(marker));
}

/** Why `dir` is not a spool folder this version can use, or undefined when it is. */
export function markerProblem(dir: string): string | undefined {
  let marker: Partial<Marker>;
  try {
    marker = JSON.parse(readFileSync(join(dir, MARKER_FILE), 'utf8')) as Partial<Marker>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `a folder without ${MARKER_FILE}` : `an unreadable ${MARKER_FILE}`;
  }
  if (marker.format !== SPOOL_FORMAT) return `a ${MARKER_FILE} of another format`;
  if (!READABLE_VERSIONS.includes(marker.version)) {
    return `a spool of version ${String(marker.version)}, which this Threadline cannot read`;
  }
  return undefined;
}

/** The lease of this process on one spool folder. */
export class SpoolLease {
  /** Random, so that no other process (pid 1 in another container, say) can hold the same. */
  readonly token = randomBytes(16).toString('hex');

  /** Writes the lease into `dir` (a folder in the making). */
  write(dir: string): void {
    const record: LeaseRecord = { token: this.token, owner: thisProcess() };
    writeFileAtomic(join(dir, LEASE_FILE), JSON.stringify(record));
  }

  /**
   * Renews the lease on `dir`. False when the folder is not there any more, or holds another
   * token: another process took it (this one missed its lease) and is delivering it.
   */
  renew(dir: string, now = Date.now()): boolean {
    const held = readLease(dir);
    if (held === 'gone' || held?.token !== this.token) return false;
    try {
      utimesSync(join(dir, LEASE_FILE), new Date(now), new Date(now));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /** Gives the folder up: the next process to look may take it at once. */
  release(dir: string): void {
    try {
      unlinkSync(join(dir, LEASE_FILE));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/** Whether the folder `dir` (a spool folder: check its marker first) may be taken over. */
export function isLeaseFree(dir: string, now = Date.now()): boolean {
  const lease = readLease(dir);
  if (lease === 'gone') return false;
  if (lease === undefined) return true; // released
  if (now - lease.renewedAt > LEASE_MS) return true;
  return lease.owner !== undefined && isGone(lease.owner);
}

/**
 * The lease in `dir` and when it was last renewed; undefined when there is none, 'gone' when
 * the folder is not there.
 */
function readLease(dir: string): (LeaseRecord & { renewedAt: number }) | 'gone' | undefined {
  const file = join(dir, LEASE_FILE);
  let text: string;
  let renewedAt: number;
  try {
    text = readFileSync(file, 'utf8');
    renewedAt = statSync(file).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return statSync(dir, { throwIfNoEntry: false }) ? undefined : 'gone';
  }
  try {
    const record = JSON.parse(text) as Partial<LeaseRecord>;
    if (typeof record.token === 'string') {
      return { token: record.token, owner: record.owner, renewedAt };
    }
  } catch {
    // Written whole by rename, so unreadable means written by something else: judged by age.
  }
  return { token: '', renewedAt };
}

/**
 * Known gone: the owner ran on this boot of this machine, in this pid namespace (so its pid
 * means the same here), and no process with its pid and start time runs now. Anything else
 * (another container, another host) is left to the lease's expiry.
 */
function isGone(owner: ProcessIdentity): boolean {
  const here = thisProcess();
  if (!here || here.boot !== owner.boot || here.pidNamespace !== owner.pidNamespace) return false;
  return startTicks(owner.pid) !== owner.startTicks;
}

let identity: ProcessIdentity | null | undefined;

function thisProcess(): ProcessIdentity | undefined {
  identity ??= readIdentity();
  return identity ?? undefined;
}

function readIdentity(): ProcessIdentity | null {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const pidNamespace = readlinkSync('/proc/self/ns/pid');
    const ticks = startTicks(process.pid);
    return ticks === undefined ? null : { boot, pidNamespace, pid: process.pid, startTicks: ticks };
  } catch {
    return null;
  }
}

/** The start time of process `pid`, in clock ticks since boot (field 22 of /proc/<pid>/stat). */
function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2, the command, is in parentheses and may hold spaces: count from after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
