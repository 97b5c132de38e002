import type { ShipperNotice, ShippingStats } from './shipping-stats';
import { EVENT_ACTION } from '../event-actions.mjs';

/** How often a lasting outage, or lines dropped, is reported again. */
const REPEAT_WARNING_MS = 60_000;
const DROP_WARNING_MS = 10_000;
/** Spool fill levels worth a warning. */
const FILL_WARNINGS = [0.5, 0.8];
/**
 * How long lines wait for an index template before the shipper warns. The API installs the
 * template as it starts (ES_SETUP_ON_START) while its own shipper, and those of the workers
 * started with it, already run: against a fresh Elasticsearch a short wait is expected.
 */
export const TEMPLATE_GRACE_MS = 20_000;

export interface ShipperReportsOptions {
  /** The spool root (LOG_SPOOL_DIR) and its bound (LOG_SPOOL_MAX_BYTES), for messages. */
  spoolRoot: string;
  spoolMaxBytes: number;
  /** Where lines go, for messages. */
  target: string;
  stats: ShippingStats;
  notice: ShipperNotice;
  /** How long a missing index template is waited for in silence. Default: TEMPLATE_GRACE_MS. */
  templateGraceMs?: number;
  /** What waits in the spool now. */
  backlog: () => { lines: number; bytes: number };
}

/**
 * What the shipper says about itself, and how often: a failure at once and then every minute
 * while it lasts, the recovery, lines dropped (every 10 s while it lasts), the disk taking
 * spool writes again, and the spool filling up.
 * @see docs/log-shipping.md#watching-it
 */
export class ShipperReports {
  private failingSince: number | undefined;
  /** When the current failure was last reported; undefined while it has not been. */
  private lastFailureWarning: number | undefined;
  private fillWarned = 0;
  private droppedUnreported = 0;
  private lastDropWarning = 0;
  /** Since when the disk refuses spool writes (full, say). */
  private writeFailingSince: number | undefined;

  constructor(private readonly options: ShipperReportsOptions) {}

  /** Whether delivery has been failing since the last time the backlog was delivered. */
  get failing(): boolean {
    return this.failingSince !== undefined;
  }

  /**
   * An attempt failed: reported at once, then every minute while it lasts. A missing index
   * template (`noTemplate`), which the API installs as it starts, is reported only once the
   * failing has lasted TEMPLATE_GRACE_MS; if the template comes sooner, nothing is said.
   */
  failed(reason: string, noTemplate = false): void {
    const now = Date.now();
    this.failingSince ??= now;
    const grace = noTemplate ? (this.options.templateGraceMs ?? TEMPLATE_GRACE_MS) : 0;
    if (now - this.failingSince < grace) return;
    if (this.lastFailureWarning !== undefined && now - this.lastFailureWarning < REPEAT_WARNING_MS)
      return;
    this.lastFailureWarning = now;
    this.options.notice(
      'warn',
      EVENT_ACTION.logShippingFailed,
      `cannot ship log lines to ${this.options.target}: ${reason}. ${this.options.backlog().lines} lines wait in the spool (${this.fillPercent()}% of LOG_SPOOL_MAX_BYTES) and are sent when it answers`,
    );
  }

  /** Every spooled line is delivered: says so when a failure was reported, and starts afresh. */
  drained(): void {
    if (this.failingSince !== undefined && this.lastFailureWarning !== undefined) {
      const seconds = Math.round((Date.now() - this.failingSince) / 1000);
      this.options.notice(
        'info',
        EVENT_ACTION.logShippingRecovered,
        `log shipping to ${this.options.target} recovered after ${seconds} s; every spooled line is delivered`,
      );
    }
    this.failingSince = undefined;
    this.fillWarned = 0;
    this.lastFailureWarning = undefined;
  }

  /** Counts lines not spooled: the spool is at its bound, or the disk refused (`error`). */
  dropped(count: number, error: NodeJS.ErrnoException | undefined): void {
    if (count === 0) return;
    const { stats } = this.options;
    stats.add('dropped', count);
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
    this.options.notice(
      'error',
      EVENT_ACTION.logLinesDropped,
      `${cause}: dropped ${reported} lines, ${stats.get('dropped')} in all; they are still on stdout${resumes}`,
    );
  }

  /** The disk refused a spool write. */
  writeFailed(): void {
    this.options.stats.add('spool_write_errors', 1);
    this.writeFailingSince ??= Date.now();
  }

  /** A spool write went through: says so when the disk had refused earlier ones. */
  writeSucceeded(): void {
    if (this.writeFailingSince === undefined) return;
    const seconds = Math.round((Date.now() - this.writeFailingSince) / 1000);
    this.writeFailingSince = undefined;
    this.options.notice(
      'info',
      EVENT_ACTION.logSpoolResumed,
      `the log spool takes writes again after ${seconds} s; ${this.options.stats.get('dropped')} lines were dropped in all (they are on stdout)`,
    );
  }

  /** Warns once at each of the fill levels as the spool fills up. */
  checkFill(): void {
    const fill = this.options.backlog().bytes / this.options.spoolMaxBytes;
    const level = FILL_WARNINGS.filter((threshold) => fill >= threshold).pop();
    if (level === undefined || level <= this.fillWarned) return;
    this.fillWarned = level;
    this.options.notice(
      'warn',
      EVENT_ACTION.logSpoolFilling,
      `the log spool is ${this.fillPercent()}% full (${this.options.backlog().lines} lines); new lines are dropped at 100% (LOG_SPOOL_MAX_BYTES)`,
    );
  }

  private fillPercent(): number {
    return Math.round((100 * this.options.backlog().bytes) / this.options.spoolMaxBytes);
  }
}
