import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ServiceName } from '../logger';
import { BatchDelivery } from './batch-delivery';
import { DEAD_LETTER_FILE, DeadLetterFile } from './dead-letter-file';
import { OwnedSpools } from './owned-spools';
import { shipperNotices } from './shipper-notices';
import { ShipperReports } from './shipper-reports';
import type { ShippingTarget } from './shipping-target';
import type { ShippingStats } from './shipping-stats';
import type { AppendResult } from './spool';
import { decodeEntries, encodeEntry } from './spool-entry';
import { LEASE_RENEW_MS } from './spool-lease';

export interface TransportShipperOptions {
  /** `service.name` of the process, for the shipper's own lines. */
  service: ServiceName;
  /** LOG_DATA_STREAM, for the shipper's own lines' dataset (default `logs-threadline-default`). */
  dataStream?: string;
  /** The spool root shared by the processes of this machine (LOG_SPOOL_DIR). */
  spoolRoot: string;
  /** Most bytes the spool may hold before new lines are dropped (LOG_SPOOL_MAX_BYTES). */
  spoolMaxBytes: number;
  /** Largest batch sent in one request, in bytes (LOG_SHIP_BULK_BYTES). */
  bulkBytes: number;
  /** Longest a line waits for a fuller batch, in ms (LOG_SHIP_FLUSH_MS). */
  flushMs: number;
  /** Largest the dead-letter file grows, in bytes (LOG_DEAD_LETTER_MAX_BYTES). */
  deadLetterMaxBytes: number;
  target: ShippingTarget;
  stats: ShippingStats;
  /** Writes one of the shipper's own lines to stdout. */
  stdout: (line: string) => void;
  /** How often the lease is renewed and left-behind spools are looked for. */
  adoptEveryMs?: number;
  /** How long a missing index template is waited for in silence (see ShipperReports). */
  templateGraceMs?: number;
}

/** First and longest pause between attempts while the target fails. */
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5_000;

class Closing extends Error {}

/**
 * The shipper of pino's transport thread: delivers the process's log lines to a
 * {@link ShippingTarget} (Elasticsearch), at least once, in order, and never twice. Every line
 * is appended to the on-disk spool first (so that an outage, a restart or a crash loses
 * nothing that reached it), then read back in batches of entries whose ids were fixed at append
 * time (so that a resend answers 409 instead of storing a copy). It owns the spool and decides
 * when to send; {@link BatchDelivery} settles each batch, and the main thread's
 * `LogTransportHandle` reads its counters.
 *
 * Nothing here ever blocks a request or a task.
 * @see docs/log-shipping.md
 */
export class TransportShipper {
  private readonly spools: OwnedSpools;
  private readonly idPrefix: string;
  private readonly batches: BatchDelivery;
  private readonly deadLetters: DeadLetterFile;
  private readonly reports: ShipperReports;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private urgent = false;
  private delivering: Promise<void> | undefined;
  private pauseTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private closing = false;
  private closed = false;
  private targetReady = false;
  private backoffMs = 0;
  /** Whether lines now delivered waited out an outage or a restart. */
  private replaying = false;

  constructor(private readonly options: TransportShipperOptions) {
    const instance = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    this.idPrefix = `${instance}-`;
    const segmentBytes = Math.max(4096, Math.min(8 * 1024 * 1024, options.spoolMaxBytes / 8));
    const notice = shipperNotices(
      options.service,
      options.stats,
      (line) => this.ownLine(line),
      options.dataStream,
    );
    this.reports = new ShipperReports({
      spoolRoot: options.spoolRoot,
      spoolMaxBytes: options.spoolMaxBytes,
      target: options.target.description,
      stats: options.stats,
      notice,
      templateGraceMs: options.templateGraceMs,
      backlog: () => ({ lines: this.spools.backlogLines(), bytes: this.spools.backlogBytes() }),
    });
    this.deadLetters = new DeadLetterFile(
      join(options.spoolRoot, DEAD_LETTER_FILE),
      options.deadLetterMaxBytes,
      options.service,
      options.target.name,
      options.stats,
      notice,
    );
    this.batches = new BatchDelivery(options.target, {
      failed: (reason) => this.failed('failing', reason),
      pause: () => this.pause(),
      deadLetter: (entry, result) => this.deadLetters.keep(entry, result),
    });
    this.spools = new OwnedSpools(options.spoolRoot, instance, segmentBytes, notice);
    this.spools.renew(false);
    // An idle process has nothing else that would start delivering what it just adopted.
    this.spools.renewEvery(
      options.adoptEveryMs ?? LEASE_RENEW_MS,
      () => this.delivering !== undefined,
      () => {
        this.updateSpoolStats();
        this.schedule();
      },
    );
    this.options.stats.setState('starting');
    this.updateSpoolStats();
    this.schedule();
  }

  /**
   * Spools lines written by the process (newline-separated JSON), or counts them dropped: the
   * spool is at its bound, or the disk refuses the write. Never throws.
   */
  accept(text: string): void {
    const lines = text.split('\n').filter((line) => line.length > 0);
    if (lines.length === 0) return;
    const entries = lines.map((line) => this.entry(line));
    const all = Buffer.from(entries.join(''));
    if (this.fits(all.length)) this.spool(all, entries.length, true);
    else {
      let dropped = 0;
      for (const entry of entries) {
        const data = Buffer.from(entry);
        if (this.fits(data.length)) this.spool(data, 1, true);
        else dropped += 1;
      }
      this.reports.dropped(dropped, undefined);
    }
    this.updateSpoolStats();
    this.reports.checkFill();
    this.schedule(this.spools.backlogBytes() >= this.options.bulkBytes);
  }

  /**
   * Stops shipping: lines still spooled are delivered for up to `graceMs` if the target
   * answers; what is left stays in the spool for the next process to start.
   */
  async close(graceMs = 3_000): Promise<void> {
    this.closing = true;
    const timeUp = new AbortController();
    const timer = setTimeout(() => timeUp.abort(), graceMs);
    const timeIsUp = aborted(timeUp.signal);
    while (this.spools.backlogLines() > 0 && !timeUp.signal.aborted && !this.reports.failing) {
      this.schedule(true);
      await Promise.race([this.delivering ?? sleep(10), timeIsUp]);
    }
    clearTimeout(timer);
    this.closed = true;
    clearTimeout(this.timer);
    this.wake?.();
    const empty = this.spools.backlogLines() === 0 && this.delivering === undefined;
    try {
      this.spools.close(empty);
    } finally {
      await this.options.target.close();
    }
  }

  /**
   * The spooled entry of a line, with its id. The document also gets `event.sequence`, the
   * line's number in this process: with `@timestamp` it orders a flow's lines for good
   * (docs/trace.md).
   */
  private entry(line: string): string {
    const seq = this.seq++;
    const document = line.startsWith('{"') ? `{"event.sequence":${seq},${line.slice(1)}` : line;
    return encodeEntry(`${this.idPrefix}${seq.toString(36)}`, document);
  }

  /** One of the shipper's own lines: to the spool when it has room, then to stdout. */
  private ownLine(line: string): void {
    // The spool first, then stdout, as for every line (transport.ts says why).
    const entry = Buffer.from(this.entry(line.trimEnd()));
    if (!this.closed && this.fits(entry.length)) this.spool(entry, 1, false);
    this.options.stdout(line.endsWith('\n') ? line : `${line}\n`);
  }

  private fits(bytes: number): boolean {
    return this.spools.backlogBytes() + bytes <= this.options.spoolMaxBytes;
  }

  /**
   * Appends entries to this process's spool. Lines the disk refuses are counted as dropped
   * (`counted`: the process's lines, not the shipper's own); the next append tries again.
   */
  private spool(data: Buffer, lines: number, counted: boolean): void {
    let result: AppendResult;
    try {
      result = this.spools.own.append(data, lines);
    } catch (error) {
      result = { lines: 0, error: error as NodeJS.ErrnoException };
    }
    this.options.stats.add('accepted', result.lines);
    if (result.error === undefined) return this.reports.writeSucceeded();
    this.reports.writeFailed();
    if (counted) this.reports.dropped(lines - result.lines, result.error);
  }

  private updateSpoolStats(): void {
    this.options.stats.set('spooled', this.spools.backlogLines());
    this.options.stats.set('spool_bytes', this.spools.backlogBytes());
  }

  /** Sends the next batch now (`urgent`), or once the flush interval has passed. */
  private schedule(urgent = false): void {
    if (this.closed || this.delivering) return;
    if (this.timer && !(urgent && !this.urgent && this.backoffMs === 0)) return;
    clearTimeout(this.timer);
    if (this.spools.backlogLines() === 0) return;
    this.urgent = urgent || this.replaying || this.closing || this.spools.hasAdopted;
    const wait = this.urgent ? 0 : this.options.flushMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.delivering = this.deliverNext().finally(() => {
        this.delivering = undefined;
        this.schedule(this.spools.backlogBytes() >= this.options.bulkBytes);
      });
    }, wait);
  }

  private async deliverNext(): Promise<void> {
    try {
      await this.untilTargetReady();
      const spool = this.spools.next();
      const batch = spool.read(this.options.bulkBytes);
      if (!batch) return;
      const { entries, unreadable } = decodeEntries(batch.body);
      for (const bad of unreadable) this.deadLetters.keepUnreadable(bad.header, bad.document);
      const delivered = await this.batches.deliver(entries);
      if (this.closed) return;
      spool.commit(batch.end, batch.lines);
      // Lines a stopped process left, or lines that waited out an outage, are replays.
      this.delivered(delivered, !this.spools.isOwn(spool) || this.replaying);
    } catch (error) {
      if (error instanceof Closing) return;
      // The disk, say: the thread carries on, and the next attempt waits a back-off.
      this.failed('failing', (error as Error).message);
      await this.pause().catch(() => undefined);
    }
  }

  private async untilTargetReady(): Promise<void> {
    while (!this.targetReady) {
      try {
        const missing = await this.options.target.missing();
        this.targetReady = missing === undefined;
        if (missing === undefined) return;
        this.failed('waiting-for-template', missing);
      } catch (error) {
        this.failed('failing', (error as Error).message);
      }
      await this.pause();
    }
  }

  private delivered(result: { stored: number; duplicates: number }, replay: boolean): void {
    const { stats } = this.options;
    stats.add('shipped', result.stored);
    stats.add('duplicates', result.duplicates);
    if (replay) stats.add('replayed', result.stored + result.duplicates);
    stats.set('last_delivery_ms', Date.now());
    stats.setState('delivering');
    this.backoffMs = 0;
    this.updateSpoolStats();
    if (this.spools.backlogLines() > 0) return;
    this.reports.drained();
    this.replaying = false;
  }

  private failed(state: 'failing' | 'waiting-for-template', reason: string): void {
    const { stats } = this.options;
    stats.add('failed_attempts', 1);
    stats.setState(state);
    this.replaying = true;
    this.backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, this.backoffMs * 2));
    this.reports.failed(reason, state === 'waiting-for-template');
  }

  /** Waits out the back-off, or until close() calls. */
  private async pause(): Promise<void> {
    if (this.closed) throw new Closing();
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      this.pauseTimer = setTimeout(resolve, this.backoffMs || BACKOFF_MIN_MS);
    });
    clearTimeout(this.pauseTimer);
    this.wake = undefined;
    if (this.closed) throw new Closing();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const aborted = (signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
