import { closeSync, fchmodSync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import type { EntryResult, LogEntry } from './shipping-target';
import type { ShipperNotice, ShippingStats } from './shipping-stats';
import { FILE_MODE } from './spool-lease';
import { EVENT_ACTION } from '../event-actions.mjs';

export const DEAD_LETTER_FILE = 'dead-letter.ndjson';

/** How often lines not kept are reported again. */
const WARNING_MS = 10_000;

/**
 * The file that keeps the lines the target refused for good, one JSON record a line, shared
 * by the processes of a spool root. It stops growing at `maxBytes` (LOG_DEAD_LETTER_MAX_BYTES):
 * the first refusals, which usually name the cause, are kept; later ones are counted
 * (`dead_letter_dropped`) and reported, not written.
 * @see docs/log-shipping.md
 */
export class DeadLetterFile {
  private lastWarning = 0;

  constructor(
    readonly path: string,
    private readonly maxBytes: number,
    private readonly service: string,
    /** The target's name, for messages (`Elasticsearch`). */
    private readonly targetName: string,
    private readonly stats: ShippingStats,
    private readonly notice: ShipperNotice,
  ) {}

  /** Keeps an entry the target refused for good, with the reason; never throws. */
  keep(entry: LogEntry, result: EntryResult): void {
    const error = result.error ?? { type: 'unknown', reason: `status ${result.status}` };
    const record = {
      '@timestamp': new Date().toISOString(),
      'service.name': this.service,
      // An entry whose spooled header could not be read has no id (null).
      _id: entry.id === '' ? null : entry.id,
      status: result.status,
      error,
      document: entry.document.toString('utf8'),
    };
    const refusal = `${this.targetName} refused a log line for good (${error.type}: ${error.reason.slice(0, 200)})`;
    let kept: 'written' | 'full' | Error;
    try {
      kept = this.append(JSON.stringify(record));
    } catch (failure) {
      kept = failure as Error;
    }
    if (kept === 'written') {
      this.stats.add('dead_lettered', 1);
      return this.notice(
        'error',
        EVENT_ACTION.logLineDeadLettered,
        `${refusal}; it is kept in ${this.path}`,
      );
    }
    this.stats.add('dead_letter_dropped', 1);
    const now = Date.now();
    if (now - this.lastWarning < WARNING_MS) return;
    this.lastWarning = now;
    const why =
      kept === 'full'
        ? `${this.path} is at LOG_DEAD_LETTER_MAX_BYTES=${this.maxBytes}; send its lines again and remove it (docs/log-shipping.md)`
        : `${this.path} cannot be written (${kept.message})`;
    this.notice(
      'error',
      EVENT_ACTION.logDeadLetterDropped,
      `${refusal} and not kept: ${why}. ${this.stats.get('dead_letter_dropped')} refused lines not kept in all`,
    );
  }

  /** Keeps a spooled entry whose header names no id (a damaged disk): it cannot be sent. */
  keepUnreadable(header: string, document: Buffer): void {
    this.keep(
      { id: '', document },
      {
        status: 0,
        error: {
          type: 'unreadable_spool_entry',
          reason: `the spooled entry's header names no id: ${header.slice(0, 100)}`,
        },
      },
    );
  }

  /**
   * Appends one record (a line); 'full' when it would pass the bound. Throws what the disk
   * says (ENOSPC, say), after cutting off what it took of the record.
   */
  private append(record: string): 'written' | 'full' {
    const data = Buffer.from(`${record}\n`);
    const fd = openSync(this.path, 'a', FILE_MODE);
    try {
      fchmodSync(fd, FILE_MODE);
      // Other processes append too: the bound holds to within their records in flight.
      const size = fstatSync(fd).size;
      if (size + data.length > this.maxBytes) return 'full';
      try {
        for (let done = 0; done < data.length;) done += writeSync(fd, data, done);
      } catch (error) {
        ftruncateSync(fd, size);
        throw error;
      }
      return 'written';
    } finally {
      closeSync(fd);
    }
  }
}
