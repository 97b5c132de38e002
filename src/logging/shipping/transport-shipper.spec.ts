import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEAD_LETTER_FILE } from './dead-letter-file';
import {
  type EntryResult,
  type LogEntry,
  type ShippingTarget,
  TargetRequestError,
} from './shipping-target';
import { ShippingStats } from './shipping-stats';
import { TransportShipper } from './transport-shipper';

/** A target, stubbed: stores documents by id like Elasticsearch would. */
class StubTarget implements ShippingTarget {
  readonly name = 'Stub';
  readonly description = 'stub';
  readonly stored = new Map<string, Record<string, unknown>>();
  up = true;
  hasTemplate = true;
  /** Decides a document's answer before it is stored; undefined stores it. */
  answer: (doc: Record<string, unknown>) => EntryResult | undefined = () => undefined;

  send(entries: readonly LogEntry[]): Promise<EntryResult[]> {
    if (!this.up) return Promise.reject(new TargetRequestError('connect ECONNREFUSED'));
    return Promise.resolve(
      entries.map(({ id, document }) => {
        const parsed = JSON.parse(document.toString()) as Record<string, unknown>;
        const special = this.answer(parsed);
        if (special) return special;
        if (this.stored.has(id)) return { status: 409 };
        this.stored.set(id, parsed);
        return { status: 201 };
      }),
    );
  }

  missing(): Promise<string | undefined> {
    if (!this.up) return Promise.reject(new TargetRequestError('connect ECONNREFUSED'));
    return Promise.resolve(this.hasTemplate ? undefined : 'no template: run npm run es:setup');
  }

  close = (): Promise<void> => Promise.resolve();

  values(): number[] {
    return [...this.stored.values()]
      .map((doc) => doc.n)
      .filter((n): n is number => typeof n === 'number');
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await sleep(20);
  }
  throw new Error(`gave up waiting for ${what}`);
}

const lines = (from: number, to: number): string =>
  Array.from({ length: to - from }, (_, i) =>
    JSON.stringify({ n: from + i, message: `line ${from + i}` }),
  ).join('\n');

/** The options a test may set. */
type Knob =
  'spoolMaxBytes' | 'bulkBytes' | 'adoptEveryMs' | 'deadLetterMaxBytes' | 'templateGraceMs';

describe(TransportShipper.name, () => {
  let root: string;
  let target: StubTarget;
  let stats: ShippingStats;
  let stdout: string[];
  const shippers: TransportShipper[] = [];

  const start = (options: Partial<Record<Knob, number>> = {}): TransportShipper => {
    const shipper = new TransportShipper({
      service: 'threadline-api',
      spoolRoot: root,
      spoolMaxBytes: options.spoolMaxBytes ?? 1 << 20,
      bulkBytes: options.bulkBytes ?? 4096,
      flushMs: 10,
      deadLetterMaxBytes: options.deadLetterMaxBytes ?? 1 << 20,
      target,
      stats,
      stdout: (line) => stdout.push(line),
      adoptEveryMs: options.adoptEveryMs,
      templateGraceMs: options.templateGraceMs,
    });
    shippers.push(shipper);
    return shipper;
  };
  const actions = (): string[] =>
    stdout.map((line) => (JSON.parse(line) as { 'event.action': string })['event.action']);

  beforeEach(() => {
    root = fs.mkdtempSync(join(tmpdir(), 'shipper-spec-'));
    target = new StubTarget();
    stats = new ShippingStats();
    stdout = [];
  });
  afterEach(async () => {
    target.up = false;
    await Promise.all(shippers.splice(0).map((s) => s.close(0)));
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('delivers every line once, in order, in batches', async () => {
    const shipper = start();
    shipper.accept(lines(0, 100));
    shipper.accept(lines(100, 200));
    await until(() => target.stored.size === 200, 'all lines stored');
    expect(target.values()).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(stats.snapshot()).toMatchObject({
      state: 'delivering',
      accepted: 200,
      shipped: 200,
      spooled: 0,
      dropped: 0,
    });
  });

  it('keeps lines while Elasticsearch is down, says so, and delivers them when it is back', async () => {
    target.up = false;
    const shipper = start();
    shipper.accept(lines(0, 50));
    await until(() => stats.state === 'failing', 'the shipper to notice');
    expect(actions()).toContain('log-shipping-failed');
    shipper.accept(lines(50, 80));
    expect(stats.get('spooled')).toBeGreaterThanOrEqual(80);
    target.up = true;
    await until(() => stats.get('spooled') === 0, 'the spool to drain');
    expect(target.values()).toEqual(Array.from({ length: 80 }, (_, i) => i));
    expect(stats.get('replayed')).toBeGreaterThanOrEqual(80);
    expect(actions()).toContain('log-shipping-recovered');
  });

  it('resends after a lost answer without storing twice: the copies count as duplicates', async () => {
    const shipper = start();
    // Elasticsearch stores the batch, but the connection drops before its answer arrives.
    const send = target.send.bind(target);
    let lost = false;
    target.send = async (entries) => {
      const results = await send(entries);
      if (lost) return results;
      lost = true;
      throw new TargetRequestError('socket hang up');
    };
    shipper.accept(lines(0, 5));
    await until(() => stats.get('duplicates') === 5, 'the resend');
    expect(target.values()).toEqual([0, 1, 2, 3, 4]);
    // Only the shipper's own warning line was stored anew.
    expect(stats.get('shipped')).toBe(target.stored.size - 5);
  });

  it('retries only the lines Elasticsearch was too busy for (429)', async () => {
    const shipper = start();
    let busy = 2;
    target.answer = (doc) => (doc.n === 3 && busy-- > 0 ? { status: 429 } : undefined);
    shipper.accept(lines(0, 5));
    await until(() => target.values().length === 5, 'all lines stored');
    expect(target.values()).toEqual([0, 1, 2, 4, 3]);
    expect(stats.get('shipped')).toBe(target.stored.size);
    expect(stats.get('failed_attempts')).toBe(2);
  });

  it('puts a line refused for good in the dead-letter file with the reason, and ships the rest', async () => {
    const shipper = start();
    target.answer = (doc) =>
      doc.n === 2
        ? {
            status: 400,
            error: { type: 'document_parsing_exception', reason: 'failed to parse field [n]' },
          }
        : undefined;
    shipper.accept(lines(0, 5));
    await until(
      () => stats.get('dead_lettered') === 1 && target.stored.size === 4,
      'the batch to settle',
    );
    const [record] = fs
      .readFileSync(join(root, DEAD_LETTER_FILE), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(record).toMatchObject({ status: 400, error: { type: 'document_parsing_exception' } });
    expect(JSON.parse(String(record?.document))).toMatchObject({ n: 2 });
    expect(actions()).toContain('log-line-dead-lettered');
    expect(fs.statSync(join(root, DEAD_LETTER_FILE)).mode & 0o777).toBe(0o600);
  });

  it('keeps the dead-letter file within its bound, and counts and reports what it does not keep', async () => {
    const shipper = start({ deadLetterMaxBytes: 4096 });
    const refused = { status: 400, error: { type: 'mapper_parsing_exception', reason: 'no' } };
    target.answer = (doc) => (typeof doc.n === 'number' ? refused : undefined);
    shipper.accept(lines(0, 40));
    await until(
      () => stats.get('dead_lettered') + stats.get('dead_letter_dropped') === 40,
      'every refusal to be settled',
    );
    const kept = fs.readFileSync(join(root, DEAD_LETTER_FILE), 'utf8').trim().split('\n');
    expect(fs.statSync(join(root, DEAD_LETTER_FILE)).size).toBeLessThanOrEqual(4096);
    expect(kept).toHaveLength(stats.get('dead_lettered'));
    expect(stats.get('dead_letter_dropped')).toBeGreaterThan(0);
    const report = stdout.find((line) => line.includes('"log-dead-letter-dropped"'));
    expect(report).toContain('LOG_DEAD_LETTER_MAX_BYTES=4096');
  });

  it('counts and reports lines the disk refuses, never throws, and spools again once it can', async () => {
    const shipper = start();
    shipper.accept(lines(0, 5));
    await until(() => target.values().length === 5, 'the first lines');
    // The segment being written cannot be opened any more (as a disk that takes no writes).
    const [own] = fs.readdirSync(root);
    const segment = join(root, own ?? '', '0000000002.ndjson');
    (shipper as unknown as { spools: { own: { nextSegment(): void } } }).spools.own.nextSegment();
    fs.mkdirSync(segment);
    expect(() => shipper.accept(lines(5, 10))).not.toThrow();
    expect(stats.get('dropped')).toBe(5);
    expect(stats.get('spool_write_errors')).toBeGreaterThan(0);
    const report = stdout.find((line) => line.includes('"log-lines-dropped"'));
    expect(report).toContain('EISDIR');
    fs.rmSync(segment, { recursive: true });
    shipper.accept(lines(10, 15));
    await until(() => target.values().length === 10, 'the lines after');
    expect(target.values()).toEqual([0, 1, 2, 3, 4, 10, 11, 12, 13, 14]);
    expect(actions()).toContain('log-spool-resumed');
  });

  it('drops and counts lines beyond the spool bound, says so, and keeps accepting', async () => {
    target.up = false;
    const shipper = start({ spoolMaxBytes: 16384 });
    for (let i = 0; i < 20; i++) shipper.accept(lines(i * 20, i * 20 + 20));
    expect(stats.get('dropped')).toBeGreaterThan(0);
    expect(stats.get('spool_bytes')).toBeLessThanOrEqual(16384);
    expect(actions()).toContain('log-lines-dropped');
    expect(actions()).toContain('log-spool-filling');
    target.up = true;
    await until(() => stats.get('spooled') === 0, 'the spool to drain');
    shipper.accept(lines(1000, 1001));
    await until(() => target.values().includes(1000), 'a new line after the drain');
  });

  it('leaves undelivered lines to the next process, which delivers them first', async () => {
    target.up = false;
    const first = start();
    first.accept(lines(0, 30));
    await first.close(0);
    expect(fs.readdirSync(root).filter((name) => !name.endsWith('.ndjson'))).toHaveLength(1);
    target.up = true;
    const second = start();
    second.accept(lines(30, 40));
    await until(() => target.values().length === 40, "both processes' lines");
    expect(target.values()).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(stats.get('replayed')).toBeGreaterThanOrEqual(30);
    expect(actions()).toContain('log-spool-adopted');
  });

  it('delivers lines left after it started, though it writes none of its own', async () => {
    start({ adoptEveryMs: 50 }); // idle: it writes nothing
    target.up = false;
    const leaving = start();
    leaving.accept(lines(0, 20));
    await leaving.close(0);
    target.up = true;
    await until(() => target.values().length === 20, 'the left lines, adopted by the idle one');
    expect(target.values()).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('carries on in a new directory when another process took its own', async () => {
    const shipper = start({ adoptEveryMs: 50 });
    const [own] = fs.readdirSync(root);
    fs.renameSync(join(root, own ?? ''), join(root, 'taken-elsewhere'));
    await until(() => actions().includes('log-spool-taken'), 'the shipper to notice');
    shipper.accept(lines(0, 5));
    await until(() => target.values().length === 5, 'lines written after');
    expect(fs.readdirSync(root)).toContain(own);
  });

  it('delivers what it holds on close when Elasticsearch answers, and removes its directory', async () => {
    const shipper = start({ bulkBytes: 1 << 20 });
    shipper.accept(lines(0, 10));
    await shipper.close();
    expect(target.stored.size).toBe(10);
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('waits for an index template before shipping, and says how to install one', async () => {
    target.hasTemplate = false;
    const shipper = start({ templateGraceMs: 200 });
    shipper.accept(lines(0, 3));
    await until(() => stats.state === 'waiting-for-template', 'the template check');
    // Past the grace: the template is not coming by itself.
    await until(() => actions().includes('log-shipping-failed'), 'the warning');
    expect(stdout.join('')).toContain('npm run es:setup');
    expect(target.stored.size).toBe(0);
    target.hasTemplate = true;
    await until(() => target.stored.size >= 3, 'the lines, once the template exists');
    expect(fs.existsSync(join(root, DEAD_LETTER_FILE))).toBe(false);
  });

  it('says nothing while a template being installed comes within the grace', async () => {
    target.hasTemplate = false;
    const shipper = start();
    shipper.accept(lines(0, 3));
    await until(() => stats.get('failed_attempts') >= 2, 'the shipper to wait for the template');
    expect(stats.state).toBe('waiting-for-template');
    target.hasTemplate = true;
    await until(() => target.stored.size >= 3, 'the lines, once the template exists');
    await until(() => stats.get('spooled') === 0, 'the spool to drain');
    // Neither a failure nor a recovery: nothing that needs anyone's action happened.
    expect(actions()).toEqual([]);
  });

  it('warns at once when Elasticsearch does not answer, grace or not', async () => {
    target.up = false;
    const shipper = start();
    shipper.accept(lines(0, 3));
    await until(() => actions().includes('log-shipping-failed'), 'the warning');
    expect(stats.state).toBe('failing');
  });
});
