// One side of the shipping benchmark, in a process of its own (its stdout, the transport's
// first sink, goes to /dev/null). Writes its result as JSON to the file named last.
//
//   node bench/peers/ship-child.mts threadline <lines> <stream> <spoolDir> <bulkBytes> <out>
//     <lines> lines through Threadline's logger and transport; timed until all are shipped.
//   node bench/peers/ship-child.mts bulk <lines> <stream> <spoolDir> <bulkBytes> <out>
//     the same lines, made by the same logger into memory, loaded with raw _bulk requests of
//     <bulkBytes>, one at a time (as the shipper sends them); timed from first to last answer.
//   node bench/peers/ship-child.mts lag <lines/s> <stream> <spoolDir> <bulkBytes> <out>
//     lines at a steady rate for 15 s through Threadline; each line's time from being written
//     to being found by a search.
import { Client } from '@elastic/elasticsearch';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type pino from 'pino';

const root = resolve(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);
const [mode, countArg, stream, spoolDir, bulkBytesArg, out, secondsArg] = process.argv.slice(2);
const count = Number(countArg);
const bulkBytes = Number(bulkBytesArg);
const url = process.env.ELASTICSEARCH_URL || 'http://127.0.0.1:9200';

interface Status {
  shipped: number;
  duplicates: number;
}
interface Shipping {
  destination: pino.DestinationStream;
  ready: Promise<void>;
  status(): Status;
}
type Logger = Pick<pino.Logger, 'info'>;
const { loadConfig } = require(join(root, 'dist', 'config', 'load-config.js')) as {
  loadConfig(this: void, env?: NodeJS.ProcessEnv): Record<string, unknown>;
};
const { LogTransportHandle } = require(
  join(root, 'dist', 'logging', 'log-transport-handle.js'),
) as {
  LogTransportHandle: { start(config: unknown, service: string): Shipping };
};
const { createLogger } = require(join(root, 'dist', 'logging', 'logger.js')) as {
  createLogger(
    this: void,
    options: {
      service: string;
      level: string;
      destination: pino.DestinationStream;
      dataStream?: string;
    },
  ): Logger;
};
const { LogStreams } = require(join(root, 'dist', 'config', 'data-streams.js')) as {
  LogStreams: new (family: string) => { stream(source: 'api'): string };
};
/** Where the API's lines of LOG_DATA_STREAM `stream` go: its api stream. */
const apiStream = new LogStreams(stream ?? '').stream('api');

/** A line like the API writes for a submitted task. */
function writeLine(logger: Logger, i: number): void {
  logger.info(
    {
      'event.action': 'task-queued',
      request_id: `bench-request-${i}`,
      correlation_id: `bench-flow-${i % 1000}`,
      task_id: `0b8c0c9e-7d0f-4a51-9d4c-${String(i).padStart(12, '0')}`,
      'task.type': 'calculate_var',
      'task.queue': 'high',
      'task.priority': 10,
      'labels.seq': i,
      'labels.written_ms': Date.now(),
    },
    `task calculate_var queued on high`,
  );
}

function threadlineLogger(): { logger: Logger; shipping: Shipping } {
  const config = loadConfig({
    ...process.env,
    LOG_DATA_STREAM: stream,
    LOG_SPOOL_DIR: spoolDir,
    LOG_SHIP_BULK_BYTES: String(bulkBytes),
  });
  const shipping = LogTransportHandle.start(config, 'threadline-api');
  const logger = createLogger({
    service: 'threadline-api',
    level: 'info',
    destination: shipping.destination,
    dataStream: stream,
  });
  return { logger, shipping };
}

async function shipThroughThreadline(): Promise<Record<string, number>> {
  const { logger, shipping } = threadlineLogger();
  await shipping.ready;
  const started = performance.now();
  // As a busy process writes: a thousand lines, then the event loop turns.
  for (let i = 0; i < count; i++) {
    writeLine(logger, i);
    if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
  }
  const written = performance.now();
  while (shipping.status().shipped + shipping.status().duplicates < count) await sleep(5);
  const seconds = (performance.now() - started) / 1000;
  return { linesPerSecond: count / seconds, writeSeconds: (written - started) / 1000 };
}

async function shipWithRawBulk(): Promise<Record<string, number>> {
  const lines: string[] = [];
  const memory = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      callback();
    },
  });
  const logger = createLogger({
    service: 'threadline-api',
    level: 'info',
    destination: memory,
    dataStream: stream,
  });
  for (let i = 0; i < count; i++) writeLine(logger, i);
  await sleep(100);
  const run = Date.now().toString(36);
  const bodies: Buffer[] = [];
  let body = '';
  lines.forEach((line, i) => {
    body += `{"create":{"_id":"raw-${run}-${i}"}}\n${line}\n`;
    if (body.length >= bulkBytes) {
      bodies.push(Buffer.from(body));
      body = '';
    }
  });
  if (body) bodies.push(Buffer.from(body));
  const client = new Client({ node: url, requestTimeout: 60_000 });
  const started = performance.now();
  for (const bulk of bodies) {
    const response = await client.transport.request<{ errors: boolean }>({
      method: 'POST',
      // Where the shipper sends the same lines.
      path: `/${apiStream}/_bulk`,
      bulkBody: bulk,
    });
    if (response.errors) throw new Error('raw _bulk: Elasticsearch refused documents');
  }
  const seconds = (performance.now() - started) / 1000;
  await client.close();
  return { linesPerSecond: lines.length / seconds };
}

async function lag(): Promise<Record<string, number>> {
  const { logger, shipping } = threadlineLogger();
  await shipping.ready;
  const client = new Client({ node: url });
  const perSecond = count;
  const seconds = Number(secondsArg) || 15;
  const total = perSecond * seconds;
  const first = Date.now() * 1000; // labels.seq, unique across runs
  const lags: number[] = [];
  let written = 0;
  const writer = setInterval(() => {
    for (let i = 0; i < perSecond / 20 && written < total; i++)
      writeLine(logger, first + written++);
  }, 50);
  let seen = first - 1;
  while (seen < first + total - 1) {
    const found = await client.search<{ 'labels.written_ms': number; 'labels.seq': number }>({
      index: apiStream,
      ignore_unavailable: true,
      query: { range: { 'labels.seq': { gt: seen } } },
      sort: [{ 'labels.seq': { order: 'asc' } }],
      size: 10_000,
      _source: ['labels.written_ms', 'labels.seq'],
    });
    const now = Date.now();
    for (const hit of found.hits.hits) {
      const doc = hit._source;
      if (!doc) continue;
      lags.push(now - doc['labels.written_ms']);
      seen = Math.max(seen, doc['labels.seq']);
    }
    await sleep(25);
  }
  clearInterval(writer);
  await client.close();
  lags.sort((a, b) => a - b);
  const at = (p: number): number =>
    lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), lines: lags.length };
}

const run = { threadline: shipThroughThreadline, bulk: shipWithRawBulk, lag }[mode ?? ''];
if (!run || !out) {
  process.stderr.write(
    'usage: ship-child.mts threadline|bulk|lag <n> <stream> <spoolDir> <bulkBytes> <out> [lag seconds]\n',
  );
  process.exit(2);
}
const result = await run();
writeFileSync(out, JSON.stringify(result));
process.exit(0);
