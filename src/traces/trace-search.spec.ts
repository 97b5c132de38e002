import type { Client } from '@elastic/elasticsearch';
import type { TraceLine } from './trace';
import { LogSearchConnection } from './log-search-connection';
import { MAX_FLOWS, TraceSearch } from './trace-search';

interface SearchParams {
  size?: number;
  search_after?: number[];
  aggs?: { flows: { terms: { size: number; order?: unknown } } };
}

/**
 * Elasticsearch as TraceSearch sees it, for one flow of `lines` (in order): the look-up
 * answers with `flows` (and `otherFlows` lines in flows past the terms' size), and pages are
 * served from the lines, each hit sorted by its index. It records what was asked and served.
 */
class FakeElasticsearch {
  readonly pageSizes: number[] = [];
  readonly flowsAsked: { size: number; order?: unknown }[] = [];
  served = 0;

  constructor(
    private readonly lines: TraceLine[],
    private readonly flows: string[] = ['flow-1'],
    private readonly otherFlows = 0,
  ) {}

  asClient(): Client {
    return {
      search: (params: SearchParams) => Promise.resolve(this.search(params)),
      openPointInTime: () => Promise.resolve({ id: 'pit-1' }),
      closePointInTime: () => Promise.resolve({ succeeded: true }),
      close: () => Promise.resolve(),
    } as unknown as Client;
  }

  private search(params: SearchParams): unknown {
    if (params.aggs) {
      this.flowsAsked.push(params.aggs.flows.terms);
      const buckets = this.flows.slice(0, params.aggs.flows.terms.size);
      return {
        took: 1,
        hits: { total: { value: this.lines.length, relation: 'eq' }, hits: [] },
        aggregations: {
          fields: { buckets: { correlation_id: { doc_count: this.lines.length } } },
          flows: {
            buckets: buckets.map((key) => ({ key, doc_count: 1 })),
            sum_other_doc_count: this.otherFlows + Math.max(0, this.flows.length - buckets.length),
          },
        },
      };
    }
    const size = params.size ?? 10;
    this.pageSizes.push(size);
    const from = params.search_after ? params.search_after[0] + 1 : 0;
    const hits = this.lines
      .slice(from, from + size)
      .map((line, i) => ({ _source: line, sort: [from + i] }));
    this.served += hits.length;
    return { took: 1, hits: { hits } };
  }
}

const flowOf = (count: number): TraceLine[] =>
  Array.from({ length: count }, (_, i) => ({
    '@timestamp': new Date(Date.UTC(2026, 0, 1) + i).toISOString(),
    'event.sequence': i,
    correlation_id: 'flow-1',
    message: `line ${i}`,
  }));

const searchOn = (fake: FakeElasticsearch): TraceSearch =>
  new TraceSearch(
    new LogSearchConnection(fake.asClient(), 'logs-threadline-test', 'http://es.test:9200'),
  );

describe(TraceSearch.name, () => {
  it('reads no more than limit + 1 lines of a big flow, keeps the first ones, and says it was cut', async () => {
    const fake = new FakeElasticsearch(flowOf(25_000));
    const trace = await searchOn(fake).trace('flow-1', { limit: 10 });
    expect(trace?.truncated).toBe(true);
    expect(trace?.lines.map((l) => l['event.sequence'])).toEqual(
      Array.from({ length: 10 }, (_, i) => i),
    );
    expect(trace?.summary.lines).toBe(10);
    expect(fake.pageSizes).toEqual([11]);
    expect(fake.served).toBe(11);
  });

  it('pages a limit larger than one page and stops as soon as it holds limit + 1', async () => {
    const fake = new FakeElasticsearch(flowOf(25_000));
    const trace = await searchOn(fake).trace('flow-1', { limit: 15_000 });
    expect(trace?.truncated).toBe(true);
    expect(trace?.lines).toHaveLength(15_000);
    expect(fake.pageSizes).toEqual([10_000, 5_001]);
    expect(fake.served).toBe(15_001);
  });

  it('does not call a flow of exactly limit lines cut', async () => {
    const fake = new FakeElasticsearch(flowOf(10));
    const trace = await searchOn(fake).trace('flow-1', { limit: 10 });
    expect(trace?.truncated).toBe(false);
    expect(trace?.lines).toHaveLength(10);
  });

  it.each([[0], [-1], [2.5], [Number.NaN], [Number.POSITIVE_INFINITY]])(
    'refuses limit %p before asking Elasticsearch anything',
    async (limit) => {
      const fake = new FakeElasticsearch(flowOf(5));
      await expect(searchOn(fake).trace('flow-1', { limit })).rejects.toThrow(RangeError);
      expect(fake.flowsAsked).toEqual([]);
      expect(fake.pageSizes).toEqual([]);
    },
  );

  it('follows at most MAX_FLOWS flows, those the ID appeared in first, and says when there are more', async () => {
    const flows = Array.from({ length: MAX_FLOWS + 500 }, (_, i) => `flow-${i}`);
    const fake = new FakeElasticsearch(flowOf(5), flows);
    const trace = await searchOn(fake).trace('shared-request-id', { limit: 100 });
    expect(MAX_FLOWS).toBeLessThanOrEqual(1_000);
    expect(fake.flowsAsked).toEqual([
      { field: 'correlation_id', size: MAX_FLOWS, order: { first_at: 'asc' } },
    ]);
    // Not cut by its lines (5 of 100), but by its flows.
    expect(trace?.lines).toHaveLength(5);
    expect(trace?.truncated).toBe(true);
  });

  it('bounds what --follow reads from a point on, too', async () => {
    const fake = new FakeElasticsearch(flowOf(1_000));
    const read = await searchOn(fake).since('flow-1', ['flow-1'], 'now-1h', 20);
    expect(read.lines).toHaveLength(20);
    expect(read.truncated).toBe(true);
    expect(fake.served).toBe(21);
  });
});
