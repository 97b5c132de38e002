import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpoolDirectory, foreignEntries } from './spool-directory';
import { LEASE_FILE, LEASE_MS, MARKER_FILE, writeMarker } from './spool-lease';

/** A process's folder name, as TransportShipper makes them: `<prefix>-<8 hex>`, sorted by prefix. */
const instance = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

describe(SpoolDirectory.name, () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'spool-root-spec-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** A spool folder whose owner stopped renewing its lease LEASE_MS ago (a crashed host). */
  const expired = (dir: SpoolDirectory): void => {
    const past = new Date(Date.now() - LEASE_MS - 1000);
    utimesSync(join(dir.own, LEASE_FILE), past, past);
  };
  const claimed = (name: string): SpoolDirectory => {
    const dir = new SpoolDirectory(root, name);
    dir.claim();
    return dir;
  };

  it('adopts the folders of stopped processes, oldest first, and leaves live ones', () => {
    const released = claimed(instance('b'));
    released.release(false); // a clean stop with lines left
    const crashed = claimed(instance('a'));
    expired(crashed);
    const live = claimed(instance('c'));
    const me = claimed(instance('z'));
    expect(me.adoptLeftBehind()).toEqual([
      join(me.own, `adopted-${crashed.instance}`),
      join(me.own, `adopted-${released.instance}`),
    ]);
    expect(existsSync(live.own)).toBe(true);
    expect(live.renew()).toBe(true);
    expect(crashed.renew()).toBe(false); // taken: the crashed one, back, starts anew
  });

  it('never adopts nor deletes a folder it did not make, however it looks', () => {
    // Named like a spool folder, holding spool-like files: but no marker the spool wrote.
    const lookalike = join(root, instance('a'));
    mkdirSync(lookalike);
    writeFileSync(join(lookalike, '0000000001.ndjson'), '{"create":{}}\n{}\n');
    // A folder of an older spool, whose ownership was host + pid.
    const older = join(root, instance('b'));
    mkdirSync(older);
    writeFileSync(join(older, 'owner.json'), JSON.stringify({ pid: process.pid, host: 'h' }));
    const other = join(root, 'backups');
    mkdirSync(other);
    const me = claimed(instance('z'));
    expect(me.adoptLeftBehind()).toEqual([]);
    me.release(true);
    expect(readdirSync(lookalike)).toEqual(['0000000001.ndjson']);
    expect(readdirSync(older)).toEqual(['owner.json']);
    expect(existsSync(other)).toBe(true);
  });

  it('never takes the folder of a live owner, even one with the same pid (pid 1 in another container)', () => {
    const twin = claimed(instance('a'));
    const lease = JSON.parse(readFileSync(join(twin.own, LEASE_FILE), 'utf8')) as {
      owner: { pidNamespace: string };
    };
    // The same pid, host and boot, in another pid namespace: only its lease can tell.
    lease.owner.pidNamespace = 'pid:[1]';
    writeFileSync(join(twin.own, LEASE_FILE), JSON.stringify(lease));
    const me = claimed(instance('z'));
    expect(me.adoptLeftBehind()).toEqual([]);
    expired(twin);
    expect(me.adoptLeftBehind()).toEqual([join(me.own, `adopted-${twin.instance}`)]);
  });

  it('takes at once the folder of a process of this machine that is gone, though its pid is reused', () => {
    const dead = claimed(instance('a'));
    const file = join(dead.own, LEASE_FILE);
    const lease = JSON.parse(readFileSync(file, 'utf8')) as { owner: { startTicks: string } };
    // Same pid (this process's), another start time: the process that held it is gone.
    lease.owner.startTicks = '1';
    writeFileSync(file, JSON.stringify(lease));
    const me = claimed(instance('z'));
    expect(me.adoptLeftBehind()).toEqual([join(me.own, `adopted-${dead.instance}`)]);
  });

  it('takes along what a stopped process had adopted itself, at any depth', () => {
    const dead = claimed(instance('b'));
    // dead had moved "half" in, then died before moving half's own adopted spool up.
    const [half, oldest] = [instance('c'), instance('a')];
    mkdirSync(join(dead.own, `adopted-${half}`, `adopted-${oldest}`), { recursive: true });
    writeMarker(join(dead.own, `adopted-${half}`));
    writeMarker(join(dead.own, `adopted-${half}`, `adopted-${oldest}`));
    dead.release(false);
    const me = claimed(instance('z'));
    expect(me.adoptLeftBehind()).toEqual([
      join(me.own, `adopted-${oldest}`),
      join(me.own, `adopted-${dead.instance}`),
      join(me.own, `adopted-${half}`),
    ]);
    expect(existsSync(join(me.own, `adopted-${half}`, `adopted-${oldest}`))).toBe(false);
  });

  it('on release, deletes an empty folder, hands over one with lines left, and keeps what is not its own', () => {
    const empty = claimed(instance('a'));
    empty.release(true);
    expect(existsSync(empty.own)).toBe(false);
    const full = claimed(instance('b'));
    full.release(false);
    const next = claimed(instance('c'));
    expect(next.adoptLeftBehind()).toEqual([join(next.own, `adopted-${full.instance}`)]);
    const meddled = claimed(instance('d'));
    writeFileSync(join(meddled.own, 'notes.txt'), 'mine');
    meddled.release(true);
    expect(readFileSync(join(meddled.own, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('makes its folders 0700 and its files 0600, whatever the umask', () => {
    const umask = process.umask(0);
    try {
      const me = claimed(instance('a'));
      expect(statSync(me.own).mode & 0o777).toBe(0o700);
      expect(statSync(join(me.own, MARKER_FILE)).mode & 0o777).toBe(0o600);
      expect(statSync(join(me.own, LEASE_FILE)).mode & 0o777).toBe(0o600);
      const fresh = join(root, 'fresh');
      new SpoolDirectory(fresh, instance('b')).claim();
      expect(statSync(fresh).mode & 0o777).toBe(0o700);
    } finally {
      process.umask(umask);
    }
  });
});

describe(foreignEntries.name, () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'spool-foreign-spec-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('finds nothing in a root holding only spool folders, one being claimed, and the dead-letter file', () => {
    const me = new SpoolDirectory(root, instance('a'));
    me.claim();
    writeFileSync(join(me.own, '0000000001.ndjson'), '');
    writeFileSync(join(me.own, 'cursor'), '1 0\n');
    mkdirSync(join(root, `.${instance('b')}`)); // a process between mkdir and its marker
    writeFileSync(join(root, 'dead-letter.ndjson'), '');
    expect(foreignEntries(root)).toEqual([]);
  });

  it('names every file and folder the spool did not make, inside its folders too', () => {
    const me = new SpoolDirectory(root, instance('a'));
    me.claim();
    writeFileSync(join(me.own, 'notes.txt'), '');
    writeFileSync(join(root, 'README'), '');
    mkdirSync(join(root, 'photos'));
    const unmarked = instance('b');
    mkdirSync(join(root, unmarked));
    symlinkSync('/etc', join(root, 'etc'));
    expect(foreignEntries(root).sort()).toEqual(
      [
        `${me.instance}/notes.txt (not written by the spool)`,
        'README (a file)',
        'etc (neither a file nor a folder)',
        'photos/ (a folder the spool did not make)',
        `${unmarked}/ (a folder without ${MARKER_FILE})`,
      ].sort(),
    );
  });
});
