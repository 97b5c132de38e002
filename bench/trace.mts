// The trace benchmark: `threadline trace` against a data stream of flows of 100 lines each
// (10,000 flows, 1,000,000 lines, in the full run). For random IDs of each kind, the time
// Elasticsearch spent (the searches' `took`) and the CLI's wall time (a process per trace, as
// a person runs it).
import { Client } from '@elastic/elasticsearch';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { percentile } from './processes.mts';

/** The data: `flows` flows of 100 lines in `stream`; `samples` traces timed per kind of ID. */
export interface TraceSize {
  flows: number;
  samples: number;
  stream: string;
}
const LINES_PER_FLOW = 100;
const REQUESTS_PER_FLOW = 4;
const TASKS_PER_FLOW = 2;
const KINDS = ['correlation_id', 'request_id', 'task_id', 'trace.id'] as const;
type Kind = (typeof KINDS)[number];

interface TraceSearchModule {
  TraceSearch: {
    connect(
      this: void,
      url: string,
      index: string,
    ): {
      trace(
        id: string,
        options: { limit: number },
      ): Promise<{ lines: unknown[]; search?: { took_ms: number } } | undefined>;
      close(): Promise<void>;
    };
  };
}

export interface TraceFigures {
  kind: Kind;
  elasticsearch: { p50: number; p99: number };
  cli: { p50: number; p99: number };
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const ids = (flow: number) => ({
  correlation_id: `bench-flow-${pad(flow, 5)}`,
  request_id: (r: number) => `bench-req-${pad(flow, 5)}-${r}`,
  task_id: (t: number) => `00000000-0000-4000-8000-${pad(flow, 8)}${pad(t, 4)}`,
  trace: (r: number) => `${pad(flow, 16)}${pad(r, 16)}`,
});

/** One flow in this many has a task that fails, and one in this many one that retries. */
export const FAILED_EVERY = 10;
const RETRIED_EVERY = 7;

/**
 * What line `i` of flow `flow` records: its two tasks queued by the API (lines 1 and 4),
 * started on the worker (5 and 8), one retried on some flows (92), and ended (95 and 98: one
 * flow in {@link FAILED_EVERY} fails its last); progress and requests in between.
 */
function action(flow: number, i: number, service: string): Record<string, unknown> {
  if (i === 1 || i === 4) return { 'event.action': 'task-queued' };
  if (i === 5 || i === 8) return { 'event.action': 'task-started' };
  if (i === 92 && flow % RETRIED_EVERY === 0) {
    return { 'event.action': 'task-retried', 'error.message': `flow ${flow}: flaky` };
  }
  if (i === 98 && flow % FAILED_EVERY === 0) {
    return { 'event.action': 'task-failed', 'error.message': `flow ${flow}: failed for good` };
  }
  if (i === 95 || i === 98) return { 'event.action': 'task-completed' };
  return { 'event.action': service === 'threadline-worker' ? 'task-progress' : 'http-request' };
}

/** Line `i` of flow `flow`: requests first (nginx + API), then task runs on the worker. */
function line(flow: number, i: number): Record<string, unknown> {
  const id = ids(flow);
  const request = i % REQUESTS_PER_FLOW;
  const task = i % TASKS_PER_FLOW;
  const service = i % 3 === 0 ? 'nginx' : i % 3 === 1 ? 'threadline-api' : 'threadline-worker';
  return {
    '@timestamp': new Date(lineTime(flow, i)).toISOString(),
    'event.sequence': i,
    'log.level': 'info',
    'service.name': service,
    'event.dataset': service === 'nginx' ? 'nginx.access' : service,
    ...action(flow, i, service),
    message: `${service} line ${i} of flow ${flow}`,
    request_id: id.request_id(request),
    correlation_id: id.correlation_id,
    task_id: id.task_id(task),
    'trace.id': id.trace(request),
    'task.type': 'calculate_var',
    'task.queue': 'high',
  };
}

/** The time of line `i` of flow `flow`: flows 2 s apart from 2026-01-01, lines 7 ms apart. */
export const lineTime = (flow: number, i: number): number =>
  Date.UTC(2026, 0, 1) + flow * 2000 + i * 7;

async function load(
  client: Client,
  { flows, stream }: TraceSize,
  log: (line: string) => void,
): Promise<void> {
  const total = flows * LINES_PER_FLOW;
  const count = await client.count({ index: stream }, { ignore: [404] });
  if ((count.count ?? 0) >= total) {
    log(`trace: ${stream} already holds ${total.toLocaleString('en')} lines`);
    return;
  }
  log(
    `trace: loading ${total.toLocaleString('en')} lines of ${flows.toLocaleString('en')} flows (once; reused by later runs)`,
  );
  const started = performance.now();
  for (let flow = 0; flow < flows; flow += 50) {
    const operations: unknown[] = [];
    for (let f = flow; f < flow + 50; f++) {
      for (let i = 0; i < LINES_PER_FLOW; i++)
        operations.push({ create: { _id: `bt-${f}-${i}` } }, line(f, i));
    }
    const result = await client.bulk({ index: stream, operations });
    const refused = result.items.find((item) => ![201, 409].includes(item.create?.status ?? 0));
    if (refused) throw new Error(`trace load: ${JSON.stringify(refused)}`);
    if ((flow + 50) % 1000 === 0) {
      const done = (flow + 50) * LINES_PER_FLOW;
      const seconds = (performance.now() - started) / 1000;
      log(
        `trace:   ${done.toLocaleString('en')} lines (${Math.round(done / seconds).toLocaleString('en')}/s)`,
      );
    }
  }
  await client.indices.refresh({ index: stream });
}

function cliWallMs(root: string, esUrl: string, stream: string, id: string): Promise<number> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      join(root, 'dist', 'cli', 'threadline.js'),
      'trace',
      id,
      '--format',
      'json',
      '--es-url',
      esUrl,
      '--data-stream',
      stream,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return new Promise((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0
        ? resolve(performance.now() - started)
        : reject(new Error(`threadline trace ${id} exited ${code}`)),
    ),
  );
}

/** Loads the data (once), then times `size.samples` traces per kind of ID. */
/** Installs the index template and loads the data, once: later runs find it there. */
export async function loadTraceData(
  root: string,
  esUrl: string,
  size: TraceSize,
  log: (line: string) => void,
): Promise<void> {
  const setup = spawnSync(process.execPath, [join(root, 'dist', 'es-setup.js')], {
    env: { ...process.env, ELASTICSEARCH_URL: esUrl, LOG_DATA_STREAM: size.stream },
    encoding: 'utf8',
  });
  if (setup.status !== 0) throw new Error(`es-setup failed: ${setup.stderr}`);
  const client = new Client({ node: esUrl, requestTimeout: 120_000 });
  await load(client, size, log);
  await client.close();
}

export async function traceBench(
  root: string,
  esUrl: string,
  size: TraceSize,
  log: (line: string) => void,
): Promise<TraceFigures[]> {
  await loadTraceData(root, esUrl, size, log);

  const require = createRequire(import.meta.url);
  const { TraceSearch } = require(
    join(root, 'dist', 'traces', 'trace-search.js'),
  ) as TraceSearchModule;
  const search = TraceSearch.connect(esUrl, size.stream);
  const figures: TraceFigures[] = [];
  // A fixed pseudo-random choice of flows, the same in every run.
  let seed = 42;
  const random = (n: number): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed % n;
  };
  for (const kind of KINDS) {
    const took: number[] = [];
    const wall: number[] = [];
    for (let s = 0; s < size.samples; s++) {
      const flow = ids(random(size.flows));
      const id =
        kind === 'correlation_id'
          ? flow.correlation_id
          : kind === 'request_id'
            ? flow.request_id(random(REQUESTS_PER_FLOW))
            : kind === 'task_id'
              ? flow.task_id(random(TASKS_PER_FLOW))
              : flow.trace(random(REQUESTS_PER_FLOW));
      const trace = await search.trace(id, { limit: LINES_PER_FLOW });
      if (!trace || trace.lines.length !== LINES_PER_FLOW) {
        throw new Error(
          `trace ${id}: ${trace?.lines.length ?? 0} lines, expected ${LINES_PER_FLOW}`,
        );
      }
      took.push(trace.search?.took_ms ?? 0);
      wall.push(await cliWallMs(root, esUrl, size.stream, id));
    }
    const figure: TraceFigures = {
      kind,
      elasticsearch: { p50: percentile(took, 0.5), p99: percentile(took, 0.99) },
      cli: { p50: Math.round(percentile(wall, 0.5)), p99: Math.round(percentile(wall, 0.99)) },
    };
    log(
      `trace by ${kind}: Elasticsearch p50 ${figure.elasticsearch.p50} ms, p99 ${figure.elasticsearch.p99} ms; CLI p50 ${figure.cli.p50} ms, p99 ${figure.cli.p99} ms`,
    );
    figures.push(figure);
  }
  await search.close();
  return figures;
}
