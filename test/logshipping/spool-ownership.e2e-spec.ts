// The log spool adopts and deletes only what it made, and only from processes that are gone:
// a LOG_SPOOL_DIR holding anything else stops the process at boot (exit 78) and stays as it
// was; two live processes that are both pid 1 (two containers) never take each other's folder.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REDIS_URL, freePort, repoRoot } from '../support/services';
import { SpoolWriter } from '../support/spool-writer';

/** What a spool root holds, file by file, with contents. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      files[path.slice(dir.length)] = readFileSync(path, 'utf8');
    }
  }
  return files;
}

describe('log spool ownership', () => {
  const roots: string[] = [];
  const writers: SpoolWriter[] = [];
  const newRoot = (): string => {
    const root = mkdtempSync(join(tmpdir(), 'threadline-spool-owner-'));
    roots.push(root);
    return root;
  };
  afterAll(async () => {
    await Promise.all(writers.map((writer) => writer.stop()));
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  it.each(['main.js', 'worker.js'])(
    '%s refuses to start beside what the spool did not make (exit 78), and touches none of it',
    async (entry) => {
      const root = newRoot();
      writeFileSync(join(root, 'notes.txt'), 'kept\n');
      mkdirSync(join(root, 'photos'));
      writeFileSync(join(root, 'photos', 'cat.jpg'), 'meow');
      // Named and filled like a spool folder, but not made by the spool: no marker.
      mkdirSync(join(root, 'lq0abcde-0123abcd'));
      writeFileSync(join(root, 'lq0abcde-0123abcd', '0000000001.ndjson'), '{"create":{}}\n{}\n');
      const before = snapshot(root);
      const run = spawnSync(process.execPath, [join(repoRoot, 'dist', entry)], {
        env: {
          PATH: process.env.PATH ?? '',
          PORT: String(await freePort()),
          REDIS_URL,
          REDIS_PREFIX: `tl-spool-owner-${process.pid}`,
          ELASTICSEARCH_URL: `http://127.0.0.1:${await freePort()}`,
          LOG_SPOOL_DIR: root,
        },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(run.status).toBe(78);
      expect(run.stderr).toContain(`LOG_SPOOL_DIR: must be a directory of the log spool's own`);
      expect(run.stderr).toContain(`${root} holds what the spool did not make`);
      expect(run.stderr).toContain('notes.txt (a file)');
      expect(run.stderr).toContain('photos/ (a folder the spool did not make)');
      expect(run.stderr).toContain('lq0abcde-0123abcd/ (a folder without spool.json)');
      expect(run.stderr).toContain('Point LOG_SPOOL_DIR at an empty or new directory');
      expect(run.stderr).not.toMatch(/^\s+at /m);
      expect(snapshot(root)).toEqual(before);
    },
  );

  it("two live processes that are both pid 1 never take each other's folder; a stopped one is adopted", async () => {
    if (process.getuid?.() !== 0) {
      throw new Error('this test runs two processes as pid 1 with unshare --pid: run it as root');
    }
    const probe = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], {
      encoding: 'utf8',
    });
    if (probe.status !== 0) {
      throw new Error(
        `this test needs unshare --pid (util-linux): ${probe.error?.message ?? probe.stderr}`,
      );
    }
    const root = newRoot();
    const env = {
      // Nothing answers there: lines stay in the spool, as during an outage.
      ELASTICSEARCH_URL: `http://127.0.0.1:${await freePort()}`,
      LOG_SPOOL_DIR: root,
      MARKER: 'pid-one',
    };
    const asPidOne = ['unshare', '--pid', '--fork', '--mount-proc'];
    const first = new SpoolWriter(env, asPidOne);
    writers.push(first);
    expect((await first.ready()).pid).toBe(1);
    first.log('first', 10);
    await first.written('first', 10);
    const [firstFolder] = readdirSync(root);

    const second = new SpoolWriter(env, asPidOne);
    writers.push(second);
    expect((await second.ready()).pid).toBe(1);
    second.log('second', 10);
    await second.written('second', 10);

    const folders = readdirSync(root).filter((name) => !name.startsWith('.'));
    expect(folders).toHaveLength(2);
    expect(folders).toContain(firstFolder);
    for (const folder of folders) {
      expect(readdirSync(join(root, folder)).filter((n) => n.startsWith('adopted-'))).toEqual([]);
    }
    expect(second.notices('log-spool-adopted')).toEqual([]);
    expect((await first.status()).spooled).toBeGreaterThanOrEqual(10);

    // A clean stop with lines undelivered releases the lease: the live one takes the folder.
    await first.stop();
    await second.until(() => second.notices('log-spool-adopted')[0], 'the stopped one adopted');
    expect(readdirSync(root)).not.toContain(firstFolder);
  });
});
