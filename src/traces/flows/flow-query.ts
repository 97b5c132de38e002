import { EVENT_ACTION } from '../../logging/event-actions.mjs';
import { FLOWS_SCANNED, type FlowFilter } from './flow-filter';

// The Elasticsearch searches behind a flow list, as plain bodies (so that a unit spec can read
// them), and what their answers hold. Two searches: the first picks the page's flows from the
// window's lines, the second sums those flows up from all their lines.

type Query = Record<string, unknown>;

const action = (name: string): Query => ({ term: { 'event.action': name } });

/** The lifecycle lines counted per flow: the tasks queued and how their attempts ended. */
const COUNTED = {
  queued: action(EVENT_ACTION.taskQueued),
  completed: action(EVENT_ACTION.taskCompleted),
  failed: action(EVENT_ACTION.taskFailed),
  retried: action(EVENT_ACTION.taskRetried),
} as const;
/** The child tasks a batch's task-queued line says it queued with it. */
const CHILDREN = { sum: { field: 'task.children' } };

/** Lines of the window, and of the key's own flows when keys are on. */
function windowQuery(filter: FlowFilter): Query {
  return {
    bool: {
      filter: [
        { range: { '@timestamp': { gte: filter.since, lte: filter.until } } },
        ...(filter.owner ? [{ term: { 'user.name': filter.owner } }] : []),
      ],
    },
  };
}

/** Filters a flow passes by having a line with this value in this field. */
const HAS = [
  ['has_type', 'taskType', 'task.type'],
  ['has_queue', 'queue', 'task.queue'],
  ['has_service', 'service', 'service.name'],
] as const satisfies readonly (readonly [string, keyof FlowFilter, string])[];

/** One flow of the first search: its span in the window, and what the filter reads. */
export interface PickedBucket {
  key: string;
  first_at: { value: number | null };
  last_at: { value: number | null };
  queued?: { doc_count: number; children: { value: number | null } };
  completed?: { doc_count: number };
  failed?: { doc_count: number };
  retried?: { doc_count: number };
  has_type?: { doc_count: number };
  has_queue?: { doc_count: number };
  has_service?: { doc_count: number };
}

/**
 * The first search: the window's flows, the one whose last line is the most recent first (then
 * by correlation_id), each with what the filter is judged on; at most {@link FLOWS_SCANNED}
 * of them (`sum_other_doc_count` says whether the window had more). Which of them pass, and
 * the page, is {@link pickPage}'s: the embedded node has no bucket_selector or bucket_sort
 * (the aggregations module), and the buckets are small.
 */
export function pickRequest(index: string, filter: FlowFilter, scanned = FLOWS_SCANNED): Query {
  const inputs: Record<string, Query> = {
    first_at: { min: { field: '@timestamp' } },
    last_at: { max: { field: '@timestamp' } },
  };
  if (filter.status === 'running' || filter.status === 'completed') {
    inputs.queued = { filter: COUNTED.queued, aggs: { children: CHILDREN } };
    inputs.completed = { filter: COUNTED.completed };
  }
  if (filter.status === 'running' || filter.status === 'completed' || filter.status === 'failed') {
    inputs.failed = { filter: COUNTED.failed };
  }
  if (filter.status === 'retried') inputs.retried = { filter: COUNTED.retried };
  for (const [name, option, field] of HAS) {
    const value = filter[option];
    if (value !== undefined) inputs[name] = { filter: { term: { [field]: value } } };
  }
  return {
    index,
    ignore_unavailable: true,
    size: 0,
    // Only what pickPage reads (no value_as_string, no flow's line count): a window of 5,000
    // flows answers in about 0.9 MB rather than 1.5 MB, parsed on the API's event loop.
    filter_path: [
      'took',
      'aggregations.scanned.sum_other_doc_count',
      'aggregations.scanned.buckets.key',
      'aggregations.scanned.buckets.*.value',
      'aggregations.scanned.buckets.*.doc_count',
      'aggregations.scanned.buckets.*.*.value',
    ],
    query: windowQuery(filter),
    aggs: {
      scanned: {
        terms: {
          field: 'correlation_id',
          size: scanned,
          order: [{ last_at: 'desc' }, { _key: 'asc' }],
          // The flows of the pages before that ended in the cursor's millisecond.
          ...(filter.after?.seen.length ? { exclude: filter.after.seen } : {}),
        },
        aggs: inputs,
      },
    },
  };
}

/** Whether a flow passes the filter, judged on its lines in the window. */
export function passes(bucket: PickedBucket, filter: FlowFilter): boolean {
  const count = (name: 'completed' | 'failed' | 'retried'): number => bucket[name]?.doc_count ?? 0;
  // A batch's task-queued line counts its children too (task.children).
  const queued = (bucket.queued?.doc_count ?? 0) + (bucket.queued?.children.value ?? 0);
  const last = bucket.last_at.value ?? 0;
  const span = last - (bucket.first_at.value ?? last);
  const status = {
    failed: () => count('failed') > 0,
    retried: () => count('retried') > 0,
    running: () => queued > count('completed') + count('failed'),
    completed: () => queued > 0 && count('failed') === 0 && count('completed') >= queued,
    slow: () => span >= (filter.minDurationMs ?? filter.slowMs),
  };
  if (filter.status && !status[filter.status]()) return false;
  if (filter.minDurationMs !== undefined && span < filter.minDurationMs) return false;
  for (const [name, option] of HAS) {
    if (filter[option] !== undefined && (bucket[name]?.doc_count ?? 0) === 0) return false;
  }
  // After the cursor: flows that ended before its last flow (those that ended with it, and
  // were listed, are excluded by name).
  return !filter.after || last <= filter.after.lastAt;
}

/** The page: the first `limit` flows that pass, and whether one more does (a next page). */
export function pickPage(
  buckets: PickedBucket[],
  filter: FlowFilter,
): { page: PickedBucket[]; more: boolean } {
  const page: PickedBucket[] = [];
  for (const bucket of buckets) {
    if (!passes(bucket, filter)) continue;
    if (page.length === filter.limit) return { page, more: true };
    page.push(bucket);
  }
  return { page, more: false };
}

/** A bar of the histogram: flows with lines in it, and how many of those failed. */
export interface FlowHistogramBar {
  at: string;
  until: string;
  flows: number;
  failed: number;
}

/** Bars the flows-over-time histogram has, about. */
export const HISTOGRAM_BARS = 40;

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  H: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  M: 2_592_000_000,
  y: 31_536_000_000,
};
/** Bar widths a person reads easily, from a second to a day. */
const NICE_INTERVALS = [
  '1s',
  '2s',
  '5s',
  '10s',
  '15s',
  '30s',
  '1m',
  '2m',
  '5m',
  '10m',
  '15m',
  '30m',
  '1h',
  '2h',
  '3h',
  '6h',
  '12h',
  '1d',
];

/**
 * A time bound (ISO 8601, or date math from now, as isTimeBound takes) as epoch ms, roughly:
 * date math's rounding is left out, months are 30 days. Enough to size the bars; the search
 * itself is given the bounds as they came.
 */
export function roughMs(bound: string, now: number): number {
  if (!bound.startsWith('now')) return Date.parse(bound);
  let ms = now;
  for (const [, sign, n, unit] of bound.matchAll(/([+-])(\d+)([yMwdhHms])/g)) {
    ms += (sign === '-' ? -1 : 1) * Number(n) * UNIT_MS[unit];
  }
  return ms;
}

/** The bar width for a window: the narrowest nice one that makes at most about 40 bars. */
export function barInterval(since: string, until: string, now = Date.now()): string {
  const width = Math.max(1, roughMs(until, now) - roughMs(since, now)) / HISTOGRAM_BARS;
  const nice = NICE_INTERVALS.find((interval) => {
    const [, n, unit] = /^(\d+)([smhd])$/.exec(interval) ?? [];
    return Number(n) * UNIT_MS[unit] >= width;
  });
  return nice ?? `${Math.ceil(width / UNIT_MS.d)}d`;
}

/** Flows over the window, in bars of {@link barInterval} (the trace page draws them). */
export function histogramRequest(index: string, filter: FlowFilter): Query {
  return {
    index,
    ignore_unavailable: true,
    size: 0,
    query: windowQuery(filter),
    aggs: {
      over_time: {
        date_histogram: {
          field: '@timestamp',
          fixed_interval: barInterval(filter.since, filter.until),
          min_doc_count: 0,
          extended_bounds: { min: filter.since, max: filter.until },
        },
        aggs: {
          flows: { cardinality: { field: 'correlation_id' } },
          failed: {
            filter: COUNTED.failed,
            aggs: { flows: { cardinality: { field: 'correlation_id' } } },
          },
        },
      },
    },
  };
}

/**
 * The second search: each picked flow summed up over all its lines (no window: a flow that
 * began before it shows whole), its first error line with it.
 */
export function summaryRequest(index: string, ids: string[], owner: string | undefined): Query {
  return {
    index,
    ignore_unavailable: true,
    size: 0,
    query: {
      bool: {
        filter: [
          { terms: { correlation_id: ids } },
          ...(owner ? [{ term: { 'user.name': owner } }] : []),
        ],
      },
    },
    aggs: {
      flows: {
        terms: { field: 'correlation_id', size: ids.length },
        aggs: {
          first_at: { min: { field: '@timestamp' } },
          last_at: { max: { field: '@timestamp' } },
          services: { terms: { field: 'service.name', size: 10 } },
          types: { terms: { field: 'task.type', size: 10 } },
          queues: { terms: { field: 'task.queue', size: 10 } },
          queued: { filter: COUNTED.queued, aggs: { children: CHILDREN } },
          completed: { filter: COUNTED.completed },
          failed: { filter: COUNTED.failed },
          retried: { filter: COUNTED.retried },
          first_error: {
            filter: { exists: { field: 'error.message' } },
            aggs: {
              line: {
                top_hits: {
                  size: 1,
                  sort: [{ '@timestamp': 'asc' }],
                  _source: ['@timestamp', 'error.message', 'error.type', 'task_id', 'service.name'],
                },
              },
            },
          },
        },
      },
    },
  };
}
