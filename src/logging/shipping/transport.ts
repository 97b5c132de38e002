import { Writable } from 'node:stream';
import SonicBoom from 'sonic-boom';
import type { ConsoleFormat } from '../console-format';
import { SOURCE_OF, type ServiceName } from '../logger';
import { prettyLines } from '../pretty-line';
import { ElasticsearchTarget } from './elasticsearch-target';
import { TransportShipper } from './transport-shipper';
import { ShippingStats } from './shipping-stats';

/** What the main thread tells the transport thread (structured-cloned: plain data only). */
export interface ShippingTransportOptions {
  service: ServiceName;
  elasticsearchUrl: string;
  dataStream: string;
  spoolDir: string;
  spoolMaxBytes: number;
  deadLetterMaxBytes: number;
  bulkBytes: number;
  flushMs: number;
  /** The counters' memory, shared with the main thread. */
  stats: SharedArrayBuffer;
  /** stdout's format, decided on the main thread (whose stdout may be a terminal). */
  console: ConsoleFormat;
}

/**
 * pino's transport target, run in pino's worker thread: every line goes into the shipper's
 * spool, then to stdout (the ECS JSON that docker logs and Filebeat read, or its pretty form
 * for a person: LOG_FORMAT). In that order, so that a process killed between the two has
 * spooled every line stdout shows. stdout gets every line whatever the spool does: the shipper
 * counts what it cannot spool (a full disk, say).
 * @see https://getpino.io/#/docs/transports
 */
export default function shippingTransport(options: ShippingTransportOptions): Writable {
  // Synchronous in this thread, so that a line is on stdout as soon as the thread has it:
  // the main thread never waits for it.
  const stdout = new SonicBoom({ fd: 1, sync: true });
  const { pretty, colour } = options.console;
  /** Whole lines to stdout, as they are or made pretty. */
  const print = pretty
    ? (lines: string) => stdout.write(prettyLines(lines, colour))
    : (lines: string) => stdout.write(lines);
  const shipper = new TransportShipper({
    service: options.service,
    spoolRoot: options.spoolDir,
    spoolMaxBytes: options.spoolMaxBytes,
    deadLetterMaxBytes: options.deadLetterMaxBytes,
    bulkBytes: options.bulkBytes,
    flushMs: options.flushMs,
    target: new ElasticsearchTarget(
      options.elasticsearchUrl,
      options.dataStream,
      SOURCE_OF[options.service],
    ),
    dataStream: options.dataStream,
    stats: new ShippingStats(options.stats),
    stdout: print,
  });
  // pino writes whole lines, but a chunk may end inside one: keep the rest for the next.
  let partial = '';
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, callback) {
      const piece = chunk.toString();
      const text = partial + piece;
      const end = text.lastIndexOf('\n');
      partial = text.slice(end + 1);
      const lines = end >= 0 ? text.slice(0, end) : '';
      try {
        if (lines) shipper.accept(lines);
      } finally {
        // JSON goes out as it came; a pretty line is made of a whole JSON line only.
        if (!pretty) stdout.write(piece);
        else if (lines) print(lines);
        callback();
      }
    },
    final(callback) {
      if (partial) {
        shipper.accept(partial);
        if (pretty) print(partial);
      }
      shipper.close().then(
        () => {
          stdout.flushSync();
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
}
