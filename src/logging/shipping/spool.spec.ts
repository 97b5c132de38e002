import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool, wholeEntries } from './spool';

const entry = (n: number): string => `{"create":{"_id":"id-${n}"}}\n{"n":${n}}\n`;
const entries = (from: number, to: number): Buffer =>
  Buffer.from(Array.from({ length: to - from }, (_, i) => entry(from + i)).join(''));
const ids = (body: Buffer): string[] =>
  [...body.toString().matchAll(/"_id":"(id-\d+)"/g)].map((m) => m[1] ?? '');

describe('Spool', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'spool-spec-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads back what was appended, in order, as a ready _bulk body', () => {
    const spool = Spool.open(dir, 1 << 20);
    spool.append(entries(0, 3), 3);
    spool.append(entries(3, 5), 2);
    const batch = spool.read(1 << 20);
    expect(batch?.lines).toBe(5);
    expect(ids(batch?.body ?? Buffer.alloc(0))).toEqual(['id-0', 'id-1', 'id-2', 'id-3', 'id-4']);
    expect(spool.backlogLines).toBe(5);
  });

  it('cuts batches at whole entries, and reads an entry longer than the batch whole', () => {
    const spool = Spool.open(dir, 1 << 20);
    spool.append(entries(0, 10), 10);
    const small = spool.read(entry(0).length + 5);
    expect(small?.lines).toBe(1);
    spool.commit(small?.end ?? { segment: 0, offset: 0 }, 1);
    const tiny = spool.read(3);
    expect(tiny?.lines).toBe(1);
    expect(ids(tiny?.body ?? Buffer.alloc(0))).toEqual(['id-1']);
  });

  it('carries on from the cursor after a reopen, and deletes delivered segments', () => {
    const segmentBytes = entry(0).length * 4;
    const first = Spool.open(dir, segmentBytes);
    first.append(entries(0, 4), 4);
    first.append(entries(4, 8), 4);
    first.append(entries(8, 10), 2);
    const batch = first.read(1 << 20);
    expect(batch?.lines).toBe(4); // one segment at a time
    first.commit(batch?.end ?? { segment: 0, offset: 0 }, 4);
    first.close();

    const second = Spool.open(dir, segmentBytes);
    expect(second.backlogLines).toBe(6);
    const next = second.read(1 << 20);
    expect(ids(next?.body ?? Buffer.alloc(0))).toEqual(['id-4', 'id-5', 'id-6', 'id-7']);
    second.commit(next?.end ?? { segment: 0, offset: 0 }, 4);
    expect(readdirSync(dir).filter((f) => f.endsWith('.ndjson'))).toHaveLength(1);
    const last = second.read(1 << 20);
    second.commit(last?.end ?? { segment: 0, offset: 0 }, last?.lines ?? 0);
    expect(second.empty).toBe(true);
    expect(second.read(1 << 20)).toBeUndefined();
  });

  it('cuts off half an entry left by a process killed while appending', () => {
    const spool = Spool.open(dir, 1 << 20);
    spool.append(entries(0, 2), 2);
    spool.close();
    appendFileSync(join(dir, '0000000001.ndjson'), '{"create":{"_id":"id-2"}}\n{"n":');
    const reopened = Spool.open(dir, 1 << 20);
    expect(reopened.backlogLines).toBe(2);
    reopened.append(entries(3, 4), 1);
    expect(ids(reopened.read(1 << 20)?.body ?? Buffer.alloc(0))).toEqual(['id-0', 'id-1', 'id-3']);
  });

  it('cuts a torn tail off every segment on reopen, not only the last', () => {
    const segmentBytes = entry(0).length * 2;
    const first = Spool.open(dir, segmentBytes);
    first.append(entries(0, 2), 2);
    first.append(entries(2, 4), 2);
    first.close();
    // A write the disk cut short, whose cut-back failed too: the next append went on in a new
    // segment, and the torn entry stayed at the end of the first.
    appendFileSync(join(dir, '0000000001.ndjson'), '{"create":{"_id":"id-x"}}\n{"n":');
    const reopened = Spool.open(dir, segmentBytes);
    expect(reopened.backlogLines).toBe(4);
    const bodies: string[] = [];
    for (let batch = reopened.read(1 << 20); batch; batch = reopened.read(1 << 20)) {
      bodies.push(batch.body.toString());
      reopened.commit(batch.end, batch.lines);
    }
    expect(ids(Buffer.from(bodies.join('')))).toEqual(['id-0', 'id-1', 'id-2', 'id-3']);
  });

  it('writes its files 0600 and its folder 0700, whatever the umask', () => {
    const umask = process.umask(0);
    try {
      const inner = join(dir, 'inner');
      const spool = Spool.open(inner, 1 << 20);
      spool.append(entries(0, 2), 2);
      const batch = spool.read(1 << 20);
      spool.commit(batch?.end ?? { segment: 0, offset: 0 }, 2);
      spool.close();
      expect(statSync(inner).mode & 0o777).toBe(0o700);
      expect(statSync(join(inner, '0000000001.ndjson')).mode & 0o777).toBe(0o600);
      expect(statSync(join(inner, 'cursor')).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(umask);
    }
  });
});

describe('wholeEntries', () => {
  it('counts pairs of lines and where the last whole pair ends', () => {
    expect(wholeEntries(Buffer.from('a\nb\nc\n'))).toEqual({ cut: 4, lines: 1 });
    expect(wholeEntries(Buffer.from('a\nb'))).toEqual({ cut: 0, lines: 0 });
  });
});
