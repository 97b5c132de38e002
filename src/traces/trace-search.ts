import { LogSearchConnection, type LogSearchOptions } from './log-search-connection';
import {
  TRACE_ID_FIELDS,
  type Trace,
  type TraceIdField,
  type TraceLine,
  buildTrace,
} from './trace';

export interface TraceOptions {
  /** Only lines at or after this time (ISO 8601, or Elasticsearch date math like now-1h). */
  since?: string;
  /** Only lines at or before this time. */
  until?: string;
  /**
   * At most this many lines: the first ones in time order. Required, so that no caller reads
   * a flow whole: at most `limit + 1` lines are held at once (the one more tells that the flow
   * was cut).
   */
  limit: number;
  /** Only lines of flows submitted with this API key (`user.name`); nginx lines carry none. */
  owner?: string;
}

/** Lines per search page; a flow past it is read page by page in a point in time. */
const PAGE = 10_000;
/**
 * Correlation IDs one ID may lead to (a request ID reused across flows, say): the ones it
 * first appeared in, earliest first. An ID that leads to more gives a cut trace.
 */
export const MAX_FLOWS = 1_000;

type Query = Record<string, unknown>;
type Cost = NonNullable<Trace['search']>;

/**
 * Finds a flow's lines in the log data stream, from any of its IDs: the ID leads to the flow's
 * correlation IDs, and those to every line, read whole and in a stable order (time, then the
 * writing process's sequence) through a point in time. The CLI and the API share it.
 * @see docs/trace.md
 */
export class TraceSearch {
  constructor(private readonly es: LogSearchConnection) {}

  /**
   * @param dataStream LOG_DATA_STREAM: every source's stream of it is searched, and its own
   *   (LogStreams.searched)
   */
  static connect(url: string, dataStream: string, options: LogSearchOptions = {}): TraceSearch {
    return new TraceSearch(LogSearchConnection.open(url, dataStream, options));
  }

  /** Where it searches, for messages: the nodes' origins, without credentials. */
  get url(): string {
    return this.es.url;
  }

  /**
   * The flow of `id`, or undefined when no line carries it: its first `options.limit` lines in
   * time order, `truncated` when it has more (or leads to more than {@link MAX_FLOWS} flows).
   */
  async trace(id: string, options: TraceOptions): Promise<Trace | undefined> {
    const limit = checkedLimit(options.limit);
    const cost: Cost = { took_ms: 0, requests: 0 };
    const found = await this.lookUp(id, options, cost);
    if (!found) return undefined;
    const query = this.flowQuery(id, found.correlationIds, options);
    const read = await this.lines(query, cost, limit);
    return {
      ...buildTrace(id, found.matched, read.lines, read.truncated || found.moreFlows),
      search: cost,
    };
  }

  /**
   * The flow's first `limit` lines from `since` on (for --follow: the caller drops those it
   * has), and whether there were more.
   */
  async since(
    id: string,
    correlationIds: string[],
    since: string,
    limit: number,
  ): Promise<{ lines: TraceLine[]; truncated: boolean }> {
    return this.lines(
      this.flowQuery(id, correlationIds, { since, limit }),
      { took_ms: 0, requests: 0 },
      checkedLimit(limit),
    );
  }

  close(): Promise<void> {
    return this.es.close();
  }

  private idClauses(id: string): Query[] {
    return TRACE_ID_FIELDS.map((field) => ({ term: { [field]: id } }));
  }

  /** The time range and owner every search of a trace is limited to. */
  private filters(options: TraceOptions): Query[] {
    const filters: Query[] = options.owner ? [{ term: { 'user.name': options.owner } }] : [];
    if (!options.since && !options.until) return filters;
    return [
      ...filters,
      {
        range: {
          '@timestamp': {
            ...(options.since ? { gte: options.since } : {}),
            ...(options.until ? { lte: options.until } : {}),
          },
        },
      },
    ];
  }

  private flowQuery(id: string, correlationIds: string[], options: TraceOptions): Query {
    return {
      bool: {
        should: [
          ...this.idClauses(id),
          ...(correlationIds.length > 0 ? [{ terms: { correlation_id: correlationIds } }] : []),
        ],
        minimum_should_match: 1,
        filter: this.filters(options),
      },
    };
  }

  /** Which fields hold `id`, and the flows (correlation IDs) it belongs to. */
  private async lookUp(
    id: string,
    options: TraceOptions,
    cost: Cost,
  ): Promise<
    { matched: TraceIdField[]; correlationIds: string[]; moreFlows: boolean } | undefined
  > {
    const result = await this.es.ask((client) =>
      client.search({
        index: this.es.index,
        // No data stream yet means nothing was logged: "not found", not an error.
        ignore_unavailable: true,
        size: 0,
        track_total_hits: 1,
        query: {
          bool: {
            should: this.idClauses(id),
            minimum_should_match: 1,
            filter: this.filters(options),
          },
        },
        aggs: {
          fields: {
            filters: {
              filters: Object.fromEntries(TRACE_ID_FIELDS.map((f) => [f, { term: { [f]: id } }])),
            },
          },
          // The flows the ID appeared in first, so that a cut trace keeps the start of it.
          flows: {
            terms: { field: 'correlation_id', size: MAX_FLOWS, order: { first_at: 'asc' } },
            aggs: { first_at: { min: { field: '@timestamp' } } },
          },
        },
      }),
    );
    cost.took_ms += result.took;
    cost.requests += 1;
    const total =
      typeof result.hits.total === 'number' ? result.hits.total : (result.hits.total?.value ?? 0);
    if (total === 0) return undefined;
    const aggs = result.aggregations as
      | {
          fields: { buckets: Record<string, { doc_count: number }> };
          flows: { buckets: { key: string }[]; sum_other_doc_count?: number };
        }
      | undefined;
    const matched = TRACE_ID_FIELDS.filter((f) => (aggs?.fields.buckets[f]?.doc_count ?? 0) > 0);
    return {
      matched,
      correlationIds: aggs?.flows.buckets.map((b) => b.key) ?? [],
      moreFlows: (aggs?.flows.sum_other_doc_count ?? 0) > 0,
    };
  }

  /**
   * The first `limit` lines matching `query`, oldest first, read page by page in one point in
   * time; it stops at `limit + 1`, the one more saying that there were more.
   */
  private async lines(
    query: Query,
    cost: Cost,
    limit: number,
  ): Promise<{ lines: TraceLine[]; truncated: boolean }> {
    const pit = await this.es.ask((client) =>
      client.openPointInTime({
        index: this.es.index,
        keep_alive: '1m',
        // A stream not written yet (the family's own, say) is no error.
        ignore_unavailable: true,
      }),
    );
    const lines: TraceLine[] = [];
    let searchAfter: (string | number)[] | undefined;
    try {
      for (;;) {
        const size = Math.min(PAGE, limit + 1 - lines.length);
        if (size <= 0) break;
        const page = await this.es.ask((client) =>
          client.search<TraceLine>({
            pit: { id: pit.id, keep_alive: '1m' },
            size,
            query,
            sort: [
              { '@timestamp': { order: 'asc' } },
              { 'event.sequence': { order: 'asc', unmapped_type: 'long', missing: '_first' } },
              { _shard_doc: { order: 'asc' } },
            ],
            ...(searchAfter ? { search_after: searchAfter } : {}),
          }),
        );
        cost.took_ms += page.took;
        cost.requests += 1;
        const hits = page.hits.hits;
        for (const hit of hits) {
          if (hit._source) lines.push(withIsoTime(hit._source));
        }
        if (hits.length < size) break;
        searchAfter = hits.at(-1)?.sort as (string | number)[];
      }
    } finally {
      await this.es.client.closePointInTime({ id: pit.id }).catch(() => undefined);
    }
    const truncated = lines.length > limit;
    if (truncated) lines.pop();
    return { lines, truncated };
  }
}

/** `limit` itself, when it is a whole number of lines, at least 1; else a RangeError. */
function checkedLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`A trace's limit must be a whole number of lines, at least 1: ${limit}`);
  }
  return limit;
}

/**
 * The line with `@timestamp` as ISO 8601: nginx writes epoch milliseconds, which Elasticsearch
 * reads as the same kind of date.
 */
function withIsoTime(line: TraceLine): TraceLine {
  const time = line['@timestamp'];
  const iso = /^\d+$/.test(time)
    ? new Date(Number(time)).toISOString()
    : new Date(time).toISOString();
  return iso === time ? line : { ...line, '@timestamp': iso };
}
