import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EntryResult, LogEntry, ShippingTarget } from './shipping-target';
import { ShippingStats } from './shipping-stats';
import { foreignEntries } from './spool-directory';
import { MARKER_FILE, SPOOL_FORMAT } from './spool-lease';
import { TransportShipper } from './transport-shipper';

/** A target that stores what it is sent, by id. */
class RecordingTarget implements ShippingTarget {
  readonly name = 'Recording';
  readonly description = 'recording';
  readonly stored = new Map<string, string>();
  send(entries: readonly LogEntry[]): Promise<EntryResult[]> {
    return Promise.resolve(
      entries.map(({ id, document }) => {
        if (this.stored.has(id)) return { status: 409 };
        this.stored.set(id, document.toString());
        return { status: 201 };
      }),
    );
  }
  missing = (): Promise<string | undefined> => Promise.resolve(undefined);
  close = (): Promise<void> => Promise.resolve();
}

/** A folder as a Threadline of spool version 1 left it: `_bulk` entries, stopped cleanly. */
function leaveVersionOneSpool(root: string, folder: string, lines: number): void {
  const dir = join(root, folder);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, MARKER_FILE), JSON.stringify({ format: SPOOL_FORMAT, version: 1 }));
  const body = Array.from(
    { length: lines },
    (_, n) => `{"create":{"_id":"${folder}-${n}"}}\n{"n":${n},"message":"old ${n}"}\n`,
  );
  writeFileSync(join(dir, '0000000001.ndjson'), body.join(''));
}

describe('a spool written by the previous version', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'spool-upgrade-spec-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("is the spool's own at start-up, not something it refuses to start beside", () => {
    leaveVersionOneSpool(root, 'lz0a1b2c-0123abcd', 3);
    expect(foreignEntries(root)).toEqual([]);
  });

  it('is delivered whole by an upgraded process, with the ids it was given, before its own lines', async () => {
    leaveVersionOneSpool(root, 'lz0a1b2c-0123abcd', 25);
    const target = new RecordingTarget();
    const stats = new ShippingStats();
    const shipper = new TransportShipper({
      service: 'threadline-api',
      spoolRoot: root,
      spoolMaxBytes: 1 << 20,
      bulkBytes: 512,
      flushMs: 10,
      deadLetterMaxBytes: 1 << 20,
      target,
      stats,
      stdout: () => undefined,
    });
    try {
      shipper.accept('{"n":100,"message":"new"}');
      for (let i = 0; i < 500 && stats.get('spooled') > 0; i++) await sleep(20);
      const old = Array.from({ length: 25 }, (_, n) => `lz0a1b2c-0123abcd-${n}`);
      const ids = [...target.stored.keys()];
      expect(ids.slice(0, 25)).toEqual(old);
      expect(target.stored.get('lz0a1b2c-0123abcd-7')).toBe('{"n":7,"message":"old 7"}');
      const own = [...target.stored.values()].find((doc) => doc.includes('"new"'));
      const line = JSON.parse(own ?? '{}') as Record<string, unknown>;
      expect(line.n).toBe(100);
      expect(typeof line['event.sequence']).toBe('number');
      expect(stats.get('replayed')).toBeGreaterThanOrEqual(25);
      expect(stats.get('dead_lettered')).toBe(0);
    } finally {
      await shipper.close(0);
    }
    expect(readdirSync(root)).toEqual([]);
  });

  it('of a version this one cannot read is left alone, and named at start-up', () => {
    const dir = join(root, 'lz0a1b2c-89abcdef');
    mkdirSync(dir);
    writeFileSync(join(dir, MARKER_FILE), JSON.stringify({ format: SPOOL_FORMAT, version: 9 }));
    expect(foreignEntries(root)).toEqual([
      'lz0a1b2c-89abcdef/ (a spool of version 9, which this Threadline cannot read)',
    ]);
  });
});
