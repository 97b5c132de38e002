import type { FlowFilter } from './flow-filter';
import { barInterval, type PickedBucket, pickPage, pickRequest, roughMs } from './flow-query';

const filter = (more: Partial<FlowFilter> = {}): FlowFilter => ({
  since: 'now-1h',
  until: 'now',
  slowMs: 5000,
  limit: 2,
  ...more,
});

const bucket = (key: string, last: number, more: Partial<PickedBucket> = {}): PickedBucket => ({
  key,
  first_at: { value: last - 100 },
  last_at: { value: last },
  ...more,
});

describe(pickPage.name, () => {
  it('keeps the flows that pass, in order, and says when one more passes', () => {
    const buckets = [
      bucket('a', 5, { failed: { doc_count: 1 } }),
      bucket('b', 4, { failed: { doc_count: 0 } }),
      bucket('c', 3, { failed: { doc_count: 2 } }),
      bucket('d', 2, { failed: { doc_count: 1 } }),
    ];
    expect(pickPage(buckets, filter({ status: 'failed' }))).toEqual({
      page: [buckets[0], buckets[2]],
      more: true,
    });
    expect(pickPage(buckets, filter({ status: 'failed', limit: 3 })).more).toBe(false);
  });

  it('counts a batch’s children as tasks it queued', () => {
    const batch = (completed: number) =>
      bucket('batch', 1, {
        queued: { doc_count: 1, children: { value: 2 } },
        completed: { doc_count: completed },
        failed: { doc_count: 0 },
      });
    expect(pickPage([batch(1)], filter({ status: 'running' })).page).toHaveLength(1);
    expect(pickPage([batch(1)], filter({ status: 'completed' })).page).toHaveLength(0);
    expect(pickPage([batch(3)], filter({ status: 'completed' })).page).toHaveLength(1);
  });

  it('starts after the cursor: flows that ended before its last one', () => {
    const buckets = [bucket('a', 9), bucket('b', 7), bucket('c', 7), bucket('d', 6)];
    // b ended at 7 and was listed: the search excludes it by name; c ended then too.
    const searched = buckets.filter((b) => b.key !== 'b');
    const page = pickPage(searched, filter({ after: { lastAt: 7, seen: ['b'] } }));
    expect(page.page.map((b) => b.key)).toEqual(['c', 'd']);
    expect(pickRequest('i', filter({ after: { lastAt: 7, seen: ['b'] } }))).toMatchObject({
      aggs: { scanned: { terms: { exclude: ['b'] } } },
    });
  });

  it('reads only the counts its filter needs', () => {
    const aggs = (f: FlowFilter) =>
      Object.keys(
        (pickRequest('i', f) as { aggs: { scanned: { aggs: object } } }).aggs.scanned.aggs,
      ).sort();
    expect(aggs(filter())).toEqual(['first_at', 'last_at']);
    expect(aggs(filter({ status: 'failed', taskType: 'echo' }))).toEqual([
      'failed',
      'first_at',
      'has_type',
      'last_at',
    ]);
  });
});

describe('the histogram’s bars', () => {
  const now = Date.UTC(2026, 0, 1, 12);

  it('reads ISO times and date math from now', () => {
    expect(roughMs('2026-01-01T11:00:00Z', now)).toBe(now - 3_600_000);
    expect(roughMs('now-1h', now)).toBe(now - 3_600_000);
    expect(roughMs('now-1d+2h', now)).toBe(now - 22 * 3_600_000);
  });

  it('are as wide as makes about 40 of them, in widths people read', () => {
    expect(barInterval('now-1h', 'now', now)).toBe('2m');
    expect(barInterval('now-15m', 'now', now)).toBe('30s');
    expect(barInterval('now-7d', 'now', now)).toBe('6h');
    expect(barInterval('now-1y', 'now', now)).toBe('10d');
  });
});
