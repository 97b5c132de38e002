// The flow list benchmark: GET /api/v1/flows's searches (FlowSearch, as the API and the CLI run
// them) over the trace benchmark's data (bench/trace.mts: 10,000 flows of 100 lines, one in
// ten with a failed task), for the last hour of it: every flow, and status=failed. The time
// Elasticsearch spent is the searches' `took`, summed.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { percentile } from './processes.mts';
import { FAILED_EVERY, lineTime, loadTraceData, type TraceSize } from './trace.mts';

interface FlowList {
  flows: { correlation_id: string; status: string }[];
  truncated: boolean;
  search: { took_ms: number; requests: number };
}
interface FlowSearchModule {
  FlowSearch: {
    connect(
      this: void,
      url: string,
      dataStream: string,
    ): {
      list(filter: Record<string, unknown>): Promise<FlowList>;
      close(): Promise<void>;
    };
  };
}

export interface FlowListFigures {
  query: string;
  /** Flows the window holds that pass the filter, and the page's size. */
  matching: number;
  elasticsearch: { p50: number; p99: number };
}

const HOUR_MS = 3_600_000;
const LIMIT = 20;

/** Loads the trace data (once), then lists its last hour `samples` times per query. */
export async function flowListBench(
  root: string,
  esUrl: string,
  size: TraceSize,
  log: (line: string) => void,
): Promise<FlowListFigures[]> {
  await loadTraceData(root, esUrl, size, log);
  const require = createRequire(import.meta.url);
  const { FlowSearch } = require(
    join(root, 'dist', 'traces', 'flows', 'flow-search.js'),
  ) as FlowSearchModule;
  const search = FlowSearch.connect(esUrl, size.stream);
  const end = lineTime(size.flows - 1, 99);
  const window = {
    since: new Date(end - HOUR_MS).toISOString(),
    until: new Date(end).toISOString(),
    slowMs: 5000,
    limit: LIMIT,
  };
  // Flows 2 s apart: the last hour holds 1,800 of them (or all, in a smaller data set).
  const inHour = Math.min(size.flows, Math.floor(HOUR_MS / 2000) + 1);
  const queries: { query: string; filter: Record<string, unknown>; matching: number }[] = [
    { query: 'the last hour', filter: window, matching: inHour },
    {
      query: 'the last hour, status=failed',
      filter: { ...window, status: 'failed' },
      matching: Math.ceil(inHour / FAILED_EVERY),
    },
  ];
  const figures: FlowListFigures[] = [];
  for (const { query, filter, matching } of queries) {
    const took: number[] = [];
    for (let s = 0; s < size.samples; s++) {
      const list = await search.list(filter);
      const expected = Math.min(LIMIT, matching);
      // Roughly: the window's edges cut a flow or two.
      if (Math.abs(list.flows.length - expected) > 1) {
        throw new Error(`flows, ${query}: ${list.flows.length} flows, expected ${expected}`);
      }
      if (filter.status === 'failed' && list.flows.some((f) => f.status !== 'failed')) {
        throw new Error(`flows, ${query}: a flow that did not fail`);
      }
      took.push(list.search.took_ms);
    }
    const figure = {
      query,
      matching,
      elasticsearch: { p50: percentile(took, 0.5), p99: percentile(took, 0.99) },
    };
    log(
      `flows, ${query}: Elasticsearch p50 ${figure.elasticsearch.p50} ms, p99 ${figure.elasticsearch.p99} ms`,
    );
    figures.push(figure);
  }
  await search.close();
  return figures;
}
