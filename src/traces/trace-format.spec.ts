import type { Trace } from './trace';
import { discoverLink, flowDiscoverLink, formatDuration, shortId } from './trace-format.mjs';

describe('trace formatting', () => {
  it('writes durations in ms, and in seconds from 10 s up', () => {
    expect(formatDuration(0)).toBe('0 ms');
    expect(formatDuration(12.4)).toBe('12 ms');
    expect(formatDuration(9_999)).toBe('9999 ms');
    expect(formatDuration(10_000)).toBe('10.0 s');
    expect(formatDuration(12_345)).toBe('12.3 s');
    expect(formatDuration(null)).toBe('?');
    expect(formatDuration(undefined)).toBe('?');
  });

  it('shortens IDs to 8 characters', () => {
    expect(shortId('3dfc291d-03cb-4394-b1a7-8bad65c5e266')).toBe('3dfc291d');
    expect(shortId(null)).toBe('-');
  });

  it("links to a saved search in Discover, narrowed to the values, from Kibana's address", () => {
    expect(discoverLink('http://kibana:5601/', 'saved', 'task_id', ['a b', 'c'])).toBe(
      "http://kibana:5601/app/discover#/view/saved?_g=(time:(from:now-7d,to:now))&_a=(query:(language:lucene,query:'task_id:%22a%20b%22%20OR%20task_id:%22c%22'))",
    );
  });

  it("links to a flow's lines from its first one, by its correlation IDs or else its ID", () => {
    const trace = {
      id: 'task-1',
      correlation_ids: ['c1', 'c2'],
      summary: { first_at: '2026-01-02T03:04:05.006Z' },
    } as Trace;
    expect(flowDiscoverLink('http://kibana', trace)).toBe(
      "http://kibana/app/discover#/view/threadline-flow-by-correlation-id?_g=(time:(from:'2026-01-02T03:04:05.006Z',to:now))&_a=(query:(language:lucene,query:'correlation_id:%22c1%22%20OR%20correlation_id:%22c2%22'))",
    );
    expect(flowDiscoverLink('http://kibana', { ...trace, correlation_ids: [] })).toContain(
      "query:'correlation_id:%22task-1%22'",
    );
  });
});
