import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BatchDelivery } from './batch-delivery';
import type { BulkTarget } from './bulk-target';
import { DEAD_LETTER_FILE, DeadLetterFile } from './dead-letter-file';
import { OwnedSpools } from './owned-spools';
import type { ShippingStats } from './shipping-stats';
import { type AppendResult, splitEntries } from './spool';
import { LEASE_RENEW_MS } from './spool-lease';

export interface LogShipperOptions {
  /** `service.name` of the process, for the shipper's own lines. */
  service: string;
  /** The spool root shared by the processes of this machine (LOG_SPOOL_DIR). */
  spoolRoot: string;
  /** Most bytes the spool may hold before new lines are dropped (LOG_SPOOL_MAX_BYTES). */
  spoolMaxBytes: number;
  /** Largest `_bulk` request, in bytes (LOG_SHIP_BULK_BYTES). */
  bulkBytes: number;
  /** Longest a line waits for a fuller batch, in ms (LOG_SHIP_FLUSH_MS). */
  flushMs: number;
  /** Largest the dead-letter file grows, in bytes (LOG_DEAD_LETTER_MAX_BYTES). */
  deadLetterMaxBytes: number;
  target: BulkTarget;
  stats: ShippingStats;
  /** Writes one of the shipper's own lines to stdout. */
  stdout: (line: string) => void;
  /** How often the lease is renewed and left-behind spools are looked for. */
  adoptEveryMs?: number;
}

/** First and longest pause between attempts while Elasticsearch fails. */
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5_000;
/** How often a lasting outage, or lines dropped, is reported again. */
const REPEAT_WARNING_MS = 60_000;
const DROP_WARNING_MS = 10_000;
/** Spool fill levels worth a warning. */
const FILL_WARNINGS = [0.5, 0.8];
export { DEAD_LETTER_FILE, splitEntries };

class Closing extends Error {}

/**
 * Delivers a process's log lines to Elasticsearch, at least once, in order, and never twice:
 * every line is appended to the on-disk spool first (so that an outage, a restart or a crash
 * loses nothing that reached it), then read back in `_bulk` batches of `create` entries with
 * ids fixed at append time (so that a resend answers 409 instead of storing a copy).
 *
 * Runs in pino's transport thread: nothing here ever blocks a request or a task.
 * @see docs/log-shipping.md
 */
export class LogShipper {
  private readonly spools: OwnedSpools;
  private readonly idPrefix: string;
  private readonly batches: BatchDelivery;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private urgent = false;
  private readonly touchTimer: NodeJS.Timeout;
  private delivering: Promise<void> | undefined;
  private pauseTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private closing = false;
  private closed = false;
  private templateReady = false;
  private backoffMs = 0;
  /** Whether lines now delivered waited out an outage or a restart. */
  private replaying = false;
  private failingSince: number | undefined;
  private lastFailureWarning = 0;
  private fillWarned = 0;
  private droppedUnreported = 0;
  private lastDropWarning = 0;
  /** Since when the disk refuses spool writes (full, say). */
  private writeFailingSince: number | undefined;

  constructor(private readonly options: LogShipperOptions) {
    const instance = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    this.idPrefix = `${instance}-`;
    const segmentBytes = Math.max(4096, Math.min(8 * 1024 * 1024, options.spoolMaxBytes / 8));
    const notice = this.notice.bind(this);
    const deadLetters = new DeadLetterFile(
      join(options.spoolRoot, DEAD_LETTER_FILE),
      options.deadLetterMaxBytes,
      options.service,
      options.stats,
      notice,
    );
    this.batches = new BatchDelivery(options.target, {
      failed: (reason) => this.failed('failing', reason),
      pause: () => this.pause(),
      deadLetter: (entry, result) => deadLetters.keep(entry, result),
    });
    this.spools = new OwnedSpools(options.spoolRoot, instance, segmentBytes, notice);
    this.spools.renew(false);
    this.touchTimer = setInterval(() => {
      try {
        this.spools.renew(this.delivering !== undefined);
      } catch (error) {
        // A full disk, say: the lease is renewed at the next tick, well within its time.
        const reason = (error as Error).message;
        this.notice(
          'warn',
          'log-spool-lease-failed',
          `cannot renew the log spool's lease: ${reason}`,
        );
      }
      this.updateSpoolStats();
      // An idle process has nothing else that would start delivering what it just adopted.
      this.schedule();
    }, options.adoptEveryMs ?? LEASE_RENEW_MS);
    this.touchTimer.unref();
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
      this.dropped(dropped, undefined);
    }
    this.updateSpoolStats();
    this.warnOnFill();
    const backlog = this.backlogBytes();
    this.schedule(backlog >= this.options.bulkBytes);
  }

  /**
   * Stops shipping: lines still spooled are delivered for up to `graceMs` if Elasticsearch
   * answers; what is left stays in the spool for the next process to start.
   */
  async close(graceMs = 3_000): Promise<void> {
    this.closing = true;
    const timeUp = new AbortController();
    const timer = setTimeout(() => timeUp.abort(), graceMs);
    const timeIsUp = aborted(timeUp.signal);
    while (this.backlogLines() > 0 && !timeUp.signal.aborted && this.failingSince === undefined) {
      this.schedule(true);
      await Promise.race([this.delivering ?? sleep(10), timeIsUp]);
    }
    clearTimeout(timer);
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.touchTimer);
    this.wake?.();
    const empty = this.backlogLines() === 0 && this.delivering === undefined;
    try {
      this.spools.close(empty);
    } finally {
      await this.options.target.close();
    }
  }

  /**
   * The `_bulk` entry of a line. The document also gets `event.sequence`, the line's number in
   * this process: with `@timestamp` it orders a flow's lines for good (docs/trace.md).
   */
  private entry(line: string): string {
    const seq = this.seq++;
    const id = `${this.idPrefix}${seq.toString(36)}`;
    const document = line.startsWith('{"') ? `{"event.sequence":${seq},${line.slice(1)}` : line;
    return `{"create":{"_id":"${id}"}}\n${document}\n`;
  }

  private fits(bytes: number): boolean {
    return this.backlogBytes() + bytes <= this.options.spoolMaxBytes;
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
    if (result.error === undefined) return this.writesResumed();
    this.options.stats.add('spool_write_errors', 1);
    this.writeFailingSince ??= Date.now();
    if (counted) this.dropped(lines - result.lines, result.error);
  }

  private writesResumed(): void {
    if (this.writeFailingSince === undefined) return;
    const seconds = Math.round((Date.now() - this.writeFailingSince) / 1000);
    this.writeFailingSince = undefined;
    this.notice(
      'info',
      'log-spool-resumed',
      `the log spool takes writes again after ${seconds} s; ${this.options.stats.get('dropped')} lines were dropped in all (they are on stdout)`,
    );
  }

  private backlogBytes(): number {
    return this.spools.backlogBytes();
  }

  private backlogLines(): number {
    return this.spools.backlogLines();
  }

  private updateSpoolStats(): void {
    this.options.stats.set('spooled', this.backlogLines());
    this.options.stats.set('spool_bytes', this.backlogBytes());
  }

  /** Sends the next batch now (`urgent`), or once the flush interval has passed. */
  private schedule(urgent = false): void {
    if (this.closed || this.delivering) return;
    if (this.timer && !(urgent && !this.urgent && this.backoffMs === 0)) return;
    clearTimeout(this.timer);
    if (this.backlogLines() === 0) return;
    this.urgent = urgent || this.replaying || this.closing || this.spools.hasAdopted;
    const wait = this.urgent ? 0 : this.options.flushMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.delivering = this.deliverNext().finally(() => {
        this.delivering = undefined;
        this.schedule(this.backlogBytes() >= this.options.bulkBytes);
      });
    }, wait);
  }

  private async deliverNext(): Promise<void> {
    try {
      await this.untilTemplateReady();
      const spool = this.spools.next();
      const batch = spool.read(this.options.bulkBytes);
      if (!batch) return;
      const delivered = await this.batches.deliver(batch.body);
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

  private async untilTemplateReady(): Promise<void> {
    while (!this.templateReady) {
      try {
        this.templateReady = await this.options.target.ready();
        if (this.templateReady) return;
        this.failed(
          'waiting-for-template',
          `no index template or data stream for ${this.options.target.description}: run npm run es:setup (or start the API with ES_SETUP_ON_START=true)`,
        );
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
    if (this.backlogLines() > 0) return;
    if (this.failingSince !== undefined) {
      const seconds = Math.round((Date.now() - this.failingSince) / 1000);
      this.notice(
        'info',
        'log-shipping-recovered',
        `log shipping to ${this.options.target.description} recovered after ${seconds} s; every spooled line is delivered`,
      );
    }
    this.failingSince = undefined;
    this.replaying = false;
    this.fillWarned = 0;
    this.lastFailureWarning = 0;
  }

  private failed(state: 'failing' | 'waiting-for-template', reason: string): void {
    const { stats } = this.options;
    stats.add('failed_attempts', 1);
    stats.setState(state);
    this.replaying = true;
    this.backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, this.backoffMs * 2));
    const now = Date.now();
    const first = this.failingSince === undefined;
    this.failingSince ??= now;
    if (!first && now - this.lastFailureWarning < REPEAT_WARNING_MS) return;
    this.lastFailureWarning = now;
    this.notice(
      'warn',
      'log-shipping-failed',
      `cannot ship log lines to ${this.options.target.description}: ${reason}. ${this.backlogLines()} lines wait in the spool (${this.fillPercent()}% of LOG_SPOOL_MAX_BYTES) and are sent when it answers`,
    );
  }

  /** Counts lines not spooled: the spool is at its bound, or the disk refused (`error`). */
  private dropped(count: number, error: NodeJS.ErrnoException | undefined): void {
    if (count === 0) return;
    this.options.stats.add('dropped', count);
    this.droppedUnreported += count;
    const now = Date.now();
    if (now - this.lastDropWarning < DROP_WARNING_MS) return;
    this.lastDropWarning = now;
    const reported = this.droppedUnreported;
    this.droppedUnreported = 0;
    const cause = error
      ? `cannot write the log spool in ${this.options.spoolRoot} (${error.message})`
      : `the log spool is full (LOG_SPOOL_MAX_BYTES=${this.options.spoolMaxBytes})`;
    const resumes = error ? '. Spooling resumes by itself once the disk takes writes again' : '';
    this.notice(
      'error',
      'log-lines-dropped',
      `${cause}: dropped ${reported} lines, ${this.options.stats.get('dropped')} in all; they are still on stdout${resumes}`,
    );
  }

  private warnOnFill(): void {
    const fill = this.backlogBytes() / this.options.spoolMaxBytes;
    const level = FILL_WARNINGS.filter((threshold) => fill >= threshold).pop();
    if (level === undefined || level <= this.fillWarned) return;
    this.fillWarned = level;
    this.notice(
      'warn',
      'log-spool-filling',
      `the log spool is ${this.fillPercent()}% full (${this.backlogLines()} lines); new lines are dropped at 100% (LOG_SPOOL_MAX_BYTES)`,
    );
  }

  private fillPercent(): number {
    return Math.round((100 * this.backlogBytes()) / this.options.spoolMaxBytes);
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

  /** One of the shipper's own lines: to stdout, and to Elasticsearch when the spool has room. */
  private notice(level: 'info' | 'warn' | 'error', action: string, message: string): void {
    const line = JSON.stringify({
      '@timestamp': new Date().toISOString(),
      'log.level': level,
      message,
      // Like every other line of the process, so that a search by process finds these too.
      'process.pid': process.pid,
      'host.hostname': hostname(),
      'ecs.version': '8.10.0',
      'service.name': this.options.service,
      'event.dataset': this.options.service,
      'event.action': action,
      'log.logger': 'log-shipper',
      log_shipping: this.options.stats.snapshot(),
    });
    // The spool first, then stdout, as for every line (transport.ts says why).
    const entry = Buffer.from(this.entry(line));
    if (!this.closed && this.fits(entry.length)) this.spool(entry, 1, false);
    this.options.stdout(`${line}\n`);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const aborted = (signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
