import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { OWNER_LEASE_MS, SpoolDirectory } from './spool-directory';

describe('SpoolDirectory', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'spool-root-spec-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const leftBy = (name: string, owner?: { pid: number; host: string }): string => {
    const dir = join(root, name);
    mkdirSync(dir);
    if (owner) writeFileSync(join(dir, 'owner.json'), JSON.stringify(owner));
    writeFileSync(join(dir, '0000000001.ndjson'), '');
    return dir;
  };

  it('adopts the directories of stopped processes, oldest first, and leaves live ones', () => {
    leftBy('b-released'); // a clean stop removes the owner file
    leftBy('a-dead', { pid: 2 ** 22 + 12345, host: hostname() });
    leftBy('c-live', { pid: process.pid === 1 ? 2 : 1, host: hostname() });
    const me = new SpoolDirectory(root, 'z-me');
    me.claim();
    const adopted = me.adoptLeftBehind();
    expect(adopted).toEqual([join(me.own, 'adopted-a-dead'), join(me.own, 'adopted-b-released')]);
    expect(existsSync(join(root, 'c-live'))).toBe(true);
  });

  it('adopts a directory whose owner elsewhere stopped renewing its lease', () => {
    const dir = leftBy('remote', { pid: 1, host: 'another-host' });
    const me = new SpoolDirectory(root, 'me');
    me.claim();
    expect(me.adoptLeftBehind()).toEqual([]);
    const past = new Date(Date.now() - OWNER_LEASE_MS - 1000);
    utimesSync(join(dir, 'owner.json'), past, past);
    expect(me.adoptLeftBehind()).toEqual([join(me.own, 'adopted-remote')]);
  });

  it('takes along what a stopped process had adopted itself', () => {
    const dir = leftBy('dead');
    mkdirSync(join(dir, 'adopted-older'));
    const me = new SpoolDirectory(root, 'me');
    me.claim();
    expect(me.adoptLeftBehind()).toEqual([
      join(me.own, 'adopted-dead'),
      join(me.own, 'adopted-older'),
    ]);
  });

  it('takes along spools nested deeper by a process killed while adopting', () => {
    const dir = leftBy('dead');
    // dead had moved "half" in, then died before moving half's own adopted spool up.
    mkdirSync(join(dir, 'adopted-half', 'adopted-oldest'), { recursive: true });
    const me = new SpoolDirectory(root, 'me');
    me.claim();
    expect(me.adoptLeftBehind()).toEqual([
      join(me.own, 'adopted-dead'),
      join(me.own, 'adopted-half'),
      join(me.own, 'adopted-oldest'),
    ]);
    expect(existsSync(join(me.own, 'adopted-half', 'adopted-oldest'))).toBe(false);
  });

  it('on release, deletes an empty directory and hands over one with lines left', () => {
    const empty = new SpoolDirectory(root, 'empty');
    empty.claim();
    empty.release(true);
    expect(existsSync(empty.own)).toBe(false);
    const full = new SpoolDirectory(root, 'full');
    full.claim();
    full.release(false);
    const next = new SpoolDirectory(root, 'next');
    next.claim();
    expect(next.adoptLeftBehind()).toEqual([join(next.own, 'adopted-full')]);
  });
});
