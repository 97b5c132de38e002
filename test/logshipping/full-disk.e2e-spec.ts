// The disk under the spool fills up: stdout still gets every line, the lines the spool cannot
// take are counted and reported, no torn entry reaches Elasticsearch, and once there is room
// again spooling and delivery carry on by themselves. On a real file system, not a simulated
// one: a 256 KiB tmpfs this test mounts (so it runs as root), filled with a file of its own.
import { Client } from '@elastic/elasticsearch';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countDocs } from '../support/log-search';
import { ELASTICSEARCH_URL, eventually, repoRoot } from '../support/services';
import { SpoolWriter } from '../support/spool-writer';

/** This test's own data stream (the embedded node cannot delete one, so it is reused). */
const STREAM = 'logs-threadline-fulldisk';
const DURING = 200;

/** Mounts a tmpfs of `size` on `dir`, or says why this test cannot run here. */
function mountTmpfs(dir: string, size: string): void {
  const needs = 'this test fills a real file system that it mounts (mount -t tmpfs)';
  if (process.getuid?.() !== 0) throw new Error(`${needs}: run it as root`);
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], {
    encoding: 'utf8',
  });
  if (mount.status !== 0) {
    throw new Error(`${needs}, and mount failed: ${mount.error?.message ?? mount.stderr.trim()}`);
  }
}

/** Writes `file` until the file system has no room left. */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  const page = Buffer.alloc(4096, 'x');
  try {
    for (;;) writeSync(fd, page);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

/** Every spool segment under `dir`, which must hold whole entries only: pairs of JSON lines. */
function tornEntries(dir: string): string[] {
  const torn: string[] = [];
  for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!/\d{10}\.ndjson$/.test(file)) continue;
    const text = readFileSync(join(dir, file), 'utf8');
    const lines = text.split('\n');
    if (lines.pop() !== '' && text !== '') torn.push(`${file}: ends inside a line`);
    if (lines.length % 2 !== 0) torn.push(`${file}: half an entry`);
    lines.forEach((line, i) => {
      try {
        JSON.parse(line);
      } catch {
        torn.push(`${file}:${i + 1}: not JSON`);
      }
    });
  }
  return torn;
}

describe('log spool on a full disk', () => {
  const client = new Client({ node: ELASTICSEARCH_URL });
  const disk = mkdtempSync(join(tmpdir(), 'threadline-full-disk-'));
  const spoolDir = join(disk, 'spool');
  const filler = join(disk, 'filler');
  const marker = randomUUID();
  let mounted = false;
  let writer: SpoolWriter | undefined;

  beforeAll(() => {
    mountTmpfs(disk, '256k');
    mounted = true;
    mkdirSync(spoolDir);
    const setup = spawnSync(process.execPath, ['dist/es-setup.js'], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '',
        ELASTICSEARCH_URL,
        LOG_DATA_STREAM: STREAM,
        LOG_SHIPPING: 'false',
      },
      encoding: 'utf8',
    });
    if (setup.status !== 0) throw new Error(`es:setup failed: ${setup.stderr}`);
  });
  afterAll(async () => {
    await writer?.stop();
    await client.close();
    if (mounted) {
      const umount = spawnSync('umount', [disk]);
      if (umount.status !== 0) spawnSync('umount', ['-l', disk]);
    }
    rmSync(disk, { recursive: true, force: true });
  });

  const inStream = (phase: string): Promise<number> =>
    countDocs(client, STREAM, {
      bool: {
        filter: [{ term: { 'labels.marker': marker } }, { term: { 'labels.phase': phase } }],
      },
    });
  const delivered = (phase: string, count: number): Promise<boolean> =>
    eventually(
      async () => ((await inStream(phase)) === count ? true : undefined),
      `${count} ${phase} lines in Elasticsearch`,
    );

  it('keeps stdout whole, counts what it cannot spool, ships no torn entry, and resumes', async () => {
    writer = new SpoolWriter({
      MARKER: marker,
      ELASTICSEARCH_URL,
      LOG_DATA_STREAM: STREAM,
      LOG_SPOOL_DIR: spoolDir,
    });
    await writer.ready();
    writer.log('before', 20);
    await writer.written('before', 20);
    await delivered('before', 20);

    fill(filler);
    // In two writes: the first may be cut short by the disk, the next is refused outright.
    writer.log('during', DURING / 2);
    await writer.written('during', DURING / 2);
    writer.log('during', DURING / 2, DURING / 2);
    const during = await writer.written('during', DURING);
    // stdout, the first sink, has every line, in order.
    expect(during.map((line) => line['labels.n'])).toEqual(
      Array.from({ length: DURING }, (_, n) => String(n)),
    );
    const full = await writer.status();
    expect(full.dropped).toBeGreaterThan(0);
    expect(full.spool_write_errors).toBeGreaterThan(0);
    const [report] = writer.notices('log-lines-dropped');
    expect(report?.message).toMatch(
      /^cannot write the log spool in .*\(ENOSPC: .*\): dropped \d+ lines/,
    );
    expect(report?.message).toContain('they are still on stdout');
    // What a short write left was cut back: the spool holds whole entries only.
    expect(tornEntries(spoolDir)).toEqual([]);

    unlinkSync(filler);
    writer.log('after', 20);
    await writer.written('after', 20);
    await delivered('after', 20);
    await writer.until(() => writer?.notices('log-spool-resumed')[0], 'the resumed notice');
    // Every line was either delivered or counted as dropped: none lost unaccounted, none torn.
    await delivered('during', DURING - full.dropped);
    const after = await writer.status();
    expect(after.dropped).toBe(full.dropped);
    expect(after.dead_lettered).toBe(0);
    expect(after.state).toBe('delivering');
  });
});
