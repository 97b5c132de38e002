import { LogSearchConnection, type LogSearchOptions } from '../log-search-connection';
import { encodeCursor, type FlowFilter, FLOWS_SCANNED, type FlowStatus } from './flow-filter';
import {
  barInterval,
  type FlowHistogramBar,
  histogramRequest,
  type PickedBucket,
  pickPage,
  pickRequest,
  roughMs,
  summaryRequest,
} from './flow-query';

/** One flow of a list: what it did, when, and where to read it whole. */
export interface FlowSummary {
  correlation_id: string;
  first_at: string;
  last_at: string;
  duration_ms: number;
  status: FlowStatus;
  /** Its duration reached the list's slow mark (FLOW_SLOW_MS, or min_duration_ms). */
  slow: boolean;
  services: string[];
  task_types: string[];
  queues: string[];
  tasks: { total: number; running: number; completed: number; failed: number };
  retries: number;
  lines: number;
  first_error: { at: string; message: string; type: string | null; task_id: string | null } | null;
  links: { trace: string; page: string };
}

/** A page of flows, most recent last line first. */
export interface FlowList {
  flows: FlowSummary[];
  /** Pass as `cursor` (with the same filters) for the next page; null on the last one. */
  next_cursor: string | null;
  /**
   * True when the window held more flows than a list reads (FLOWS_SCANNED): only its most
   * recent ones were listed. Narrow `until` (or the window) to reach older ones.
   */
  truncated: boolean;
  /** Flows over the window, when asked for. */
  histogram?: FlowHistogramBar[];
  /** What it cost Elasticsearch: the searches' `took`, summed, and how many. */
  search: { took_ms: number; requests: number };
}

interface Terms {
  buckets: { key: string }[];
}
interface SummaryBucket {
  key: string;
  doc_count: number;
  first_at: { value: number | null };
  last_at: { value: number | null };
  services: Terms;
  types: Terms;
  queues: Terms;
  queued: { doc_count: number; children: { value: number | null } };
  completed: { doc_count: number };
  failed: { doc_count: number };
  retried: { doc_count: number };
  first_error: {
    line: { hits: { hits: { _source?: Record<string, unknown> }[] } };
  };
}
interface HistogramBucket {
  key: number;
  key_as_string?: string;
  flows: { value: number };
  failed: { flows: { value: number } };
}

const iso = (ms: number | null): string => new Date(ms ?? 0).toISOString();
const keys = (terms: Terms): string[] => terms.buckets.map((b) => b.key);
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * Lists flows from the log lines with Elasticsearch aggregations: which flows of a window pass
 * the filter (one search), then what each did (a second, over the page's flows only).
 * The API's `GET /api/v1/flows` and `threadline flows` share it.
 * @see docs/flows.md
 */
export class FlowSearch {
  constructor(
    private readonly es: LogSearchConnection,
    /** Flows of a window read at most (FLOWS_SCANNED; smaller in tests). */
    private readonly scanned = FLOWS_SCANNED,
  ) {}

  static connect(url: string, dataStream: string, options: LogSearchOptions = {}): FlowSearch {
    return new FlowSearch(LogSearchConnection.open(url, dataStream, options));
  }

  /** Where it searches, for messages: the nodes' origins, without credentials. */
  get url(): string {
    return this.es.url;
  }

  async list(filter: FlowFilter, options: { histogram?: boolean } = {}): Promise<FlowList> {
    const search = { took_ms: 0, requests: 0 };
    const [picked, histogram] = await Promise.all([
      this.pick(filter, search),
      options.histogram ? this.histogram(filter, search) : undefined,
    ]);
    const { page, more } = pickPage(picked.buckets, filter);
    const flows = page.length > 0 ? await this.summaries(page, filter, search) : [];
    const last = page.at(-1);
    let next: string | null = null;
    if (more && last?.last_at.value != null) {
      const lastAt = last.last_at.value;
      // Flows of this page (and of earlier ones) that ended at that very millisecond.
      const sameMs = page.filter((b) => b.last_at.value === lastAt).map((b) => b.key);
      const earlier = filter.after && filter.after.lastAt === lastAt ? filter.after.seen : [];
      next = encodeCursor({ lastAt, seen: [...earlier, ...sameMs] });
    }
    return {
      flows,
      next_cursor: next,
      truncated: picked.more,
      ...(histogram ? { histogram } : {}),
      search,
    };
  }

  close(): Promise<void> {
    return this.es.close();
  }

  private async pick(
    filter: FlowFilter,
    cost: FlowList['search'],
  ): Promise<{ buckets: PickedBucket[]; more: boolean }> {
    const result = await this.es.ask((client) =>
      client.search(pickRequest(this.es.index, filter, this.scanned)),
    );
    cost.took_ms += result.took;
    cost.requests += 1;
    const scanned = (
      result.aggregations as
        { scanned: { buckets?: PickedBucket[]; sum_other_doc_count?: number } } | undefined
    )?.scanned;
    return { buckets: scanned?.buckets ?? [], more: (scanned?.sum_other_doc_count ?? 0) > 0 };
  }

  private async histogram(
    filter: FlowFilter,
    cost: FlowList['search'],
  ): Promise<FlowHistogramBar[]> {
    const result = await this.es.ask((client) =>
      client.search(histogramRequest(this.es.index, filter)),
    );
    cost.took_ms += result.took;
    cost.requests += 1;
    const buckets =
      (result.aggregations as { over_time: { buckets: HistogramBucket[] } } | undefined)?.over_time
        .buckets ?? [];
    const step = intervalMs(barInterval(filter.since, filter.until));
    return buckets.map((bucket) => ({
      at: iso(bucket.key),
      until: iso(bucket.key + step),
      flows: bucket.flows.value,
      failed: bucket.failed.flows.value,
    }));
  }

  /** Each flow of the page summed up over all its lines, in the page's order. */
  private async summaries(
    page: PickedBucket[],
    filter: FlowFilter,
    cost: FlowList['search'],
  ): Promise<FlowSummary[]> {
    const ids = page.map((b) => b.key);
    const result = await this.es.ask((client) =>
      client.search(summaryRequest(this.es.index, ids, filter.owner)),
    );
    cost.took_ms += result.took;
    cost.requests += 1;
    const buckets =
      (result.aggregations as { flows: { buckets: SummaryBucket[] } } | undefined)?.flows.buckets ??
      [];
    const byId = new Map(buckets.map((b) => [b.key, b]));
    const slowMs = filter.minDurationMs ?? filter.slowMs;
    return ids.flatMap((id) => {
      const bucket = byId.get(id);
      return bucket ? [summarize(bucket, slowMs)] : [];
    });
  }
}

/** One flow's figures, from its bucket of the summary search. */
export function summarize(bucket: SummaryBucket, slowMs: number): FlowSummary {
  const first = bucket.first_at.value ?? 0;
  const last = bucket.last_at.value ?? first;
  const total = bucket.queued.doc_count + (bucket.queued.children.value ?? 0);
  const completed = bucket.completed.doc_count;
  const failed = bucket.failed.doc_count;
  const running = Math.max(0, total - completed - failed);
  const status: FlowStatus =
    failed > 0 ? 'failed' : running > 0 ? 'running' : total > 0 ? 'completed' : 'none';
  const error = bucket.first_error.line.hits.hits[0]?._source;
  const id = encodeURIComponent(bucket.key);
  return {
    correlation_id: bucket.key,
    first_at: iso(first),
    last_at: iso(last),
    duration_ms: last - first,
    status,
    slow: last - first >= slowMs,
    services: keys(bucket.services),
    task_types: keys(bucket.types),
    queues: keys(bucket.queues),
    tasks: { total, running, completed, failed },
    retries: bucket.retried.doc_count,
    lines: bucket.doc_count,
    first_error: error
      ? {
          at: iso(Date.parse(String(error['@timestamp']))),
          message: text(error['error.message']) ?? '',
          type: text(error['error.type']),
          task_id: text(error.task_id),
        }
      : null,
    links: { trace: `/api/v1/traces/${id}`, page: `/trace/${id}` },
  };
}

/** A bar's width (`30s`, `5m`, `2d`) in ms. */
function intervalMs(interval: string): number {
  const [, n, unit] = /^(\d+)([smhd])$/.exec(interval) ?? ['', '0', 's'];
  return Number(n) * roughMs(`now+1${unit}`, 0);
}
