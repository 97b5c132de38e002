import { accessSync, constants, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino, { type DestinationStream } from 'pino';
import type { AppConfig } from '../config/app-config';
import { InvalidConfigError } from '../config/invalid-config.error';
import type { ServiceName } from './logger';
import { type ShippingSnapshot, ShippingStats } from './shipping/shipping-stats';
import { LineBatcher } from './shipping/line-batcher';
import { foreignEntries } from './shipping/spool-directory';
import { FOLDER_MODE } from './shipping/spool-lease';
import type { ShippingTransportOptions } from './shipping/transport';

/** How long the main thread collects lines before handing them to the transport thread. */
const HANDOFF_MS = 10;

export type LogShippingStatus = { enabled: false } | ({ enabled: true } & ShippingSnapshot);

/** The main thread's view of log shipping: where lines go, and the shipper's counters. */
export class LogShipping {
  private constructor(
    readonly destination: DestinationStream | undefined,
    private readonly stats: ShippingStats | undefined,
    /** Settles once the transport thread takes lines (at once when shipping is off). */
    readonly ready: Promise<void> = Promise.resolve(),
  ) {}

  /**
   * Starts pino's transport thread (the spool and Elasticsearch, then stdout) when
   * LOG_SHIPPING is on; else lines go to stdout only, from this thread.
   */
  static start(config: AppConfig, service: ServiceName): LogShipping {
    if (!config.LOG_SHIPPING) return new LogShipping(undefined, undefined);
    const spoolDir = resolve(config.LOG_SPOOL_DIR);
    const stats = new ShippingStats();
    const options: ShippingTransportOptions = {
      service,
      elasticsearchUrl: config.ELASTICSEARCH_URL,
      dataStream: config.LOG_DATA_STREAM,
      spoolDir,
      spoolMaxBytes: config.LOG_SPOOL_MAX_BYTES,
      deadLetterMaxBytes: config.LOG_DEAD_LETTER_MAX_BYTES,
      bulkBytes: config.LOG_SHIP_BULK_BYTES,
      flushMs: config.LOG_SHIP_FLUSH_MS,
      stats: stats.buffer,
    };
    const transport = pino.transport<ShippingTransportOptions>({
      target: join(__dirname, 'shipping', 'transport.js'),
      options,
    });
    const batcher = new LineBatcher(transport, HANDOFF_MS);
    // Ahead of the transport's own exit handler: the last lines reach it before it ends.
    process.prependListener('exit', () => batcher.flush());
    const ready = new Promise<void>((resolve, reject) => {
      transport.once('ready', () => resolve());
      transport.once('error', (error: Error) =>
        reject(new Error(`the log transport did not start: ${error.message}`)),
      );
    });
    return new LogShipping(batcher, stats, ready);
  }

  status(): LogShippingStatus {
    return this.stats ? { enabled: true, ...this.stats.snapshot() } : { enabled: false };
  }
}

/** How many foreign entries the boot message names before it says how many more. */
const FOREIGN_SHOWN = 5;

/**
 * The process refuses to start (called at boot, with the rest of the configuration's checks)
 * when the spool cannot be written, which would lose every line, or when LOG_SPOOL_DIR holds
 * anything the spool did not make: the spool adopts and deletes its own folders, so it must
 * never share a directory with anything else.
 */
export function ensureSpoolUsable(config: AppConfig): void {
  if (!config.LOG_SHIPPING) return;
  const dir = resolve(config.LOG_SPOOL_DIR);
  let foreign: string[];
  try {
    mkdirSync(dir, { recursive: true, mode: FOLDER_MODE });
    accessSync(dir, constants.W_OK);
    foreign = foreignEntries(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new InvalidConfigError([
      {
        variable: 'LOG_SPOOL_DIR',
        expected: `must be a writable directory; ${dir} is not (${code}). Point it elsewhere, or set LOG_SHIPPING=false`,
      },
    ]);
  }
  if (foreign.length === 0) return;
  const more = foreign.length - FOREIGN_SHOWN;
  const found = foreign.slice(0, FOREIGN_SHOWN).join(', ') + (more > 0 ? ` and ${more} more` : '');
  throw new InvalidConfigError([
    {
      variable: 'LOG_SPOOL_DIR',
      expected: `must be a directory of the log spool's own; ${dir} holds what the spool did not make: ${found}. The spool never adopts or deletes those. Point LOG_SPOOL_DIR at an empty or new directory, or move them out of ${dir} (a spool left by an older Threadline counts too: docs/log-shipping.md says how to send its lines)`,
    },
  ]);
}
