import { appendFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BulkRequestError, type BulkItemResult, type BulkTarget } from './bulk-target';
import type { ShippingStats } from './shipping-stats';
import { Spool, wholeEntries } from './spool';
import { OWNER_LEASE_MS, OWNER_TOUCH_MS, SpoolDirectory } from './spool-directory';

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
  target: BulkTarget;
  stats: ShippingStats;
  /** Writes one of the shipper's own lines to stdout. */
  stdout: (line: string) => void;
  /** How often the owner file is touched and left-behind spools are looked for. */
  adoptEveryMs?: number;
}

/** First and longest pause between attempts while Elasticsearch fails. */
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5_000;
/** A document answered 500 this many times is taken as refused for good. */
const MAX_SERVER_ERRORS = 5;
/** How often a lasting outage, or lines dropped, is reported again. */
const REPEAT_WARNING_MS = 60_000;
const DROP_WARNING_MS = 10_000;
/** Spool fill levels worth a warning. */
const FILL_WARNINGS = [0.5, 0.8];
export const DEAD_LETTER_FILE = 'dead-letter.ndjson';

/** Item statuses worth sending again: Elasticsearch is busy or briefly unavailable. */
const RETRYABLE = new Set([408, 429, 502, 503, 504]);

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
  private readonly directory: SpoolDirectory;
  private own: Spool;
  /** Spools left by stopped processes, delivered before this process's own lines. */
  private readonly adopted: Spool[] = [];
  private readonly idPrefix: string;
  private readonly segmentBytes: number;
  private readonly deadLetterFile: string;
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

  constructor(private readonly options: LogShipperOptions) {
    const instance = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    this.idPrefix = `${instance}-`;
    this.segmentBytes = Math.max(4096, Math.min(8 * 1024 * 1024, options.spoolMaxBytes / 8));
    this.deadLetterFile = join(options.spoolRoot, DEAD_LETTER_FILE);
    this.directory = new SpoolDirectory(options.spoolRoot, instance);
    this.directory.claim();
    this.own = Spool.open(this.directory.own, this.segmentBytes);
    this.adoptLeftBehind();
    this.touchTimer = setInterval(() => {
      if (!this.directory.touch()) this.reclaim();
      this.adoptLeftBehind();
      // An idle process has nothing else that would start delivering what it just adopted.
      this.schedule();
    }, options.adoptEveryMs ?? OWNER_TOUCH_MS);
    this.touchTimer.unref();
    this.options.stats.setState('starting');
    this.updateSpoolStats();
    this.schedule();
  }

  /** Spools lines written by the process (newline-separated JSON), or counts them dropped. */
  accept(text: string): void {
    const lines = text.split('\n').filter((line) => line.length > 0);
    if (lines.length === 0) return;
    const entries = lines.map((line) => this.entry(line));
    const all = Buffer.from(entries.join(''));
    if (this.fits(all.length)) {
      this.own.append(all, entries.length);
      this.options.stats.add('accepted', entries.length);
    } else {
      let dropped = 0;
      for (const entry of entries) {
        const data = Buffer.from(entry);
        if (this.fits(data.length)) {
          this.own.append(data, 1);
          this.options.stats.add('accepted', 1);
        } else dropped += 1;
      }
      this.dropped(dropped);
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
    this.own.close();
    for (const spool of this.adopted) spool.close();
    this.directory.release(empty);
    await this.options.target.close();
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

  private spools(): Spool[] {
    return [...this.adopted, this.own];
  }

  private backlogBytes(): number {
    return this.spools().reduce((sum, spool) => sum + spool.backlogBytes, 0);
  }

  private backlogLines(): number {
    return this.spools().reduce((sum, spool) => sum + spool.backlogLines, 0);
  }

  private updateSpoolStats(): void {
    this.options.stats.set('spooled', this.backlogLines());
    this.options.stats.set('spool_bytes', this.backlogBytes());
  }

  /**
   * Another process took this one's directory for left behind (this one had not renewed its
   * lease for OWNER_LEASE_MS) and now delivers it: start a new one. Lines appended to the old
   * spool after the other process opened it may be left there until a later adoption.
   */
  private reclaim(): void {
    if (this.delivering || this.closed) return; // The next touch tries again.
    this.own.close();
    for (const spool of this.adopted.splice(0)) spool.close();
    this.directory.claim();
    this.own = Spool.open(this.directory.own, this.segmentBytes);
    this.notice(
      'warn',
      'log-spool-taken',
      `another process took over this one's log spool (it missed its ${OWNER_LEASE_MS / 1000} s lease); carrying on in a new one`,
    );
  }

  private adoptLeftBehind(): void {
    const known = new Set(this.adopted.map((spool) => spool.dir));
    for (const dir of this.directory.adoptLeftBehind()) {
      if (known.has(dir)) continue;
      const spool = Spool.open(dir, this.segmentBytes);
      this.adopted.push(spool);
      if (!spool.empty) {
        this.notice(
          'info',
          'log-spool-adopted',
          `delivering ${spool.backlogLines} log lines left by a stopped process`,
        );
      }
    }
    this.updateSpoolStats();
  }

  /** Sends the next batch now (`urgent`), or once the flush interval has passed. */
  private schedule(urgent = false): void {
    if (this.closed || this.delivering) return;
    if (this.timer && !(urgent && !this.urgent && this.backoffMs === 0)) return;
    clearTimeout(this.timer);
    if (this.backlogLines() === 0) return;
    this.urgent = urgent || this.replaying || this.closing || this.adopted.length > 0;
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
      // Adopted spools delivered in full are done with.
      for (let done = this.adopted[0]; done?.empty; done = this.adopted[0]) {
        this.adopted.shift();
        done.close();
        rmSync(done.dir, { recursive: true, force: true });
      }
      const spool = this.adopted[0] ?? this.own;
      const batch = spool.read(this.options.bulkBytes);
      if (!batch) return;
      const delivered = await this.deliver(batch.body);
      if (this.closed) return;
      spool.commit(batch.end, batch.lines);
      // Lines a stopped process left, or lines that waited out an outage, are replays.
      this.delivered(delivered, spool !== this.own || this.replaying);
    } catch (error) {
      if (!(error instanceof Closing)) throw error;
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

  /**
   * Delivers one batch: returns once every entry is stored, was already stored, or is in the
   * dead-letter file. Retries, with back-off, whatever failed for a passing reason.
   */
  private async deliver(body: Buffer): Promise<{ stored: number; duplicates: number }> {
    const done = { stored: 0, duplicates: 0 };
    let pendingBody = body;
    // Split into entries only when some need handling of their own (rare).
    let pending: { entry: Buffer; serverErrors: number }[] | undefined;
    const entries = () =>
      (pending ??= splitEntries(body).map((entry) => ({ entry, serverErrors: 0 })));
    for (;;) {
      let results: BulkItemResult[];
      try {
        results = await this.options.target.bulk(pendingBody);
      } catch (error) {
        const failure =
          error instanceof BulkRequestError ? error : new BulkRequestError(String(error));
        if (failure.status === 413) {
          const rest = await this.deliverTooLarge(
            entries().map((p) => p.entry),
            failure,
          );
          return {
            stored: done.stored + rest.stored,
            duplicates: done.duplicates + rest.duplicates,
          };
        }
        this.failed('failing', failure.message);
        await this.pause();
        continue;
      }
      const expected = pending?.length ?? wholeEntries(pendingBody).lines;
      if (results.length !== expected) {
        // Not an answer about every line: nothing can be taken as stored but the 201s and
        // 409s, which a resend turns into 409s anyway.
        this.failed('failing', `Elasticsearch answered for ${results.length} of ${expected} lines`);
        await this.pause();
        continue;
      }
      const retry: { entry: Buffer; serverErrors: number }[] = [];
      let retryReason = '';
      results.forEach((result, i) => {
        if (result.status === 200 || result.status === 201) done.stored += 1;
        else if (result.status === 409) done.duplicates += 1;
        else {
          const item = entries()[i];
          if (!item) return;
          const passing =
            RETRYABLE.has(result.status) ||
            (result.status >= 500 && ++item.serverErrors < MAX_SERVER_ERRORS);
          if (!passing) return this.deadLetter(item.entry, result);
          retry.push(item);
          retryReason ||= `${result.status} ${result.error?.type ?? ''}`.trim();
        }
      });
      if (retry.length === 0) return done;
      this.failed('failing', `Elasticsearch answered ${retryReason} for ${retry.length} lines`);
      pending = retry;
      pendingBody = Buffer.concat(retry.map((r) => r.entry));
      await this.pause();
    }
  }

  /** A 413: Elasticsearch's http.max_content_length is below the batch; send it in halves. */
  private async deliverTooLarge(
    entries: Buffer[],
    failure: BulkRequestError,
  ): Promise<{ stored: number; duplicates: number }> {
    if (entries.length === 1 && entries[0]) {
      this.deadLetter(entries[0], {
        status: 413,
        error: { type: 'request_too_large', reason: failure.message },
      });
      return { stored: 0, duplicates: 0 };
    }
    const half = Math.ceil(entries.length / 2);
    const first = await this.deliver(Buffer.concat(entries.slice(0, half)));
    const second = await this.deliver(Buffer.concat(entries.slice(half)));
    return {
      stored: first.stored + second.stored,
      duplicates: first.duplicates + second.duplicates,
    };
  }

  private deadLetter(entry: Buffer, result: BulkItemResult): void {
    const text = entry.toString('utf8');
    const split = text.indexOf('\n');
    const action = JSON.parse(text.slice(0, split)) as { create?: { _id?: string } };
    const record = {
      '@timestamp': new Date().toISOString(),
      'service.name': this.options.service,
      _id: action.create?._id ?? null,
      status: result.status,
      error: result.error ?? { type: 'unknown', reason: `status ${result.status}` },
      document: text.slice(split + 1, text.length - 1),
    };
    appendFileSync(this.deadLetterFile, `${JSON.stringify(record)}\n`);
    this.options.stats.add('dead_lettered', 1);
    this.notice(
      'error',
      'log-line-dead-lettered',
      `Elasticsearch refused a log line for good (${record.error.type}: ${record.error.reason.slice(0, 200)}); it is kept in ${this.deadLetterFile}`,
    );
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

  private dropped(count: number): void {
    if (count === 0) return;
    this.options.stats.add('dropped', count);
    this.droppedUnreported += count;
    const now = Date.now();
    if (now - this.lastDropWarning < DROP_WARNING_MS) return;
    this.lastDropWarning = now;
    const reported = this.droppedUnreported;
    this.droppedUnreported = 0;
    this.notice(
      'error',
      'log-lines-dropped',
      `the log spool is full (LOG_SPOOL_MAX_BYTES=${this.options.spoolMaxBytes}): dropped ${reported} lines, ${this.options.stats.get('dropped')} in all; they are still on stdout`,
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
    if (!this.closed && this.fits(entry.length)) {
      this.own.append(entry, 1);
      this.options.stats.add('accepted', 1);
    }
    this.options.stdout(`${line}\n`);
  }
}

/** The entries (action line + document line) of a `_bulk` body. */
export function splitEntries(body: Buffer): Buffer[] {
  const entries: Buffer[] = [];
  let start = 0;
  while (start < body.length) {
    const { cut } = wholeEntries(firstEntry(body, start));
    if (cut === 0) break;
    entries.push(body.subarray(start, start + cut));
    start += cut;
  }
  return entries;
}

function firstEntry(body: Buffer, start: number): Buffer {
  const first = body.indexOf(0x0a, start);
  const second = first === -1 ? -1 : body.indexOf(0x0a, first + 1);
  return body.subarray(start, second === -1 ? body.length : second + 1);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const aborted = (signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
