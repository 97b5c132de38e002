import { join, resolve } from 'node:path';
import pino, { type DestinationStream } from 'pino';
import type { AppConfig } from '../config/app-config';
import { consoleFormat, prettyStdout } from './console-format';
import type { ServiceName } from './logger';
import { type ShippingSnapshot, ShippingStats } from './shipping/shipping-stats';
import { LineBatcher } from './shipping/line-batcher';
import type { ShippingTransportOptions } from './shipping/transport';

/** How long the main thread collects lines before handing them to the transport thread. */
const HANDOFF_MS = 10;

export type LogShippingStatus = { enabled: false } | ({ enabled: true } & ShippingSnapshot);

/**
 * The main thread's handle on log shipping: it starts pino's transport thread (where the
 * `TransportShipper` spools and ships every line), gives the logger its destination, and reads
 * the shipper's counters from memory the two threads share.
 * @see docs/log-shipping.md
 */
export class LogTransportHandle {
  private constructor(
    readonly destination: DestinationStream | undefined,
    private readonly stats: ShippingStats | undefined,
    /** Settles once the transport thread takes lines (at once when shipping is off). */
    readonly ready: Promise<void> = Promise.resolve(),
  ) {}

  /**
   * Starts pino's transport thread (the spool and Elasticsearch, then stdout) when
   * LOG_SHIPPING is on; else lines go to stdout only, from this thread. stdout gets the JSON
   * lines, or their pretty form (LOG_FORMAT); the spool always gets the JSON.
   */
  static start(config: AppConfig, service: ServiceName): LogTransportHandle {
    const format = consoleFormat(config);
    if (!config.LOG_SHIPPING) {
      // undefined: the logger's own JSON destination, untouched when pretty is off.
      const destination = format.pretty ? prettyStdout(format.colour) : undefined;
      return new LogTransportHandle(destination, undefined);
    }
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
      console: format,
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
    return new LogTransportHandle(batcher, stats, ready);
  }

  status(): LogShippingStatus {
    return this.stats ? { enabled: true, ...this.stats.snapshot() } : { enabled: false };
  }
}
