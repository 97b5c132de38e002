import type { Request } from 'express';
import { routeOf } from '../context/route-of';
import { Metrics } from './metrics';
import { scrapeRefusal } from './scrape-access';
import { parseApiKeys } from '../auth/api-keys';

const shippingOff = () => ({ enabled: false }) as const;

describe('Metrics', () => {
  it('counts and times when on', async () => {
    const metrics = new Metrics(true, shippingOff);
    metrics.httpRequest('GET', '/api/v1/tasks/:id', 200, 0.002);
    metrics.httpRequest('GET', '/api/v1/tasks/:id', 200, 0.004);
    metrics.taskSubmitted('echo', 'low', 3);
    const text = await metrics.render();
    expect(text).toContain(
      'threadline_http_request_duration_seconds_count{method="GET",route="/api/v1/tasks/:id",status_code="200"} 2',
    );
    expect(text).toContain('threadline_tasks_submitted_total{type="echo",queue="low"} 3');
  });

  it('records nothing when off (METRICS=false)', async () => {
    const metrics = new Metrics(false, shippingOff);
    metrics.httpRequest('GET', '/health', 200, 0.001);
    metrics.taskSubmitted('echo', 'low');
    metrics.taskStarted('echo', 'low', 0.1);
    metrics.taskEnded('echo', 'low', 'completed', 0.1);
    metrics.taskStalled('low');
    expect(await metrics.render()).not.toMatch(/^threadline_(http|task)\w*\{/m);
  });

  it("reads the shipper's counters at scrape time", async () => {
    let shipped = 1;
    const metrics = new Metrics(true, () => ({
      enabled: true,
      state: 'delivering',
      accepted: 5,
      shipped,
      duplicates: 0,
      replayed: 0,
      dead_lettered: 0,
      dead_letter_dropped: 0,
      dropped: 0,
      spool_write_errors: 0,
      spooled: 4,
      spool_bytes: 900,
      failed_attempts: 0,
      last_delivery_at: null,
    }));
    expect(await metrics.render()).toContain('threadline_log_lines_shipped_total 1\n');
    shipped = 5;
    const text = await metrics.render();
    expect(text).toContain('threadline_log_lines_shipped_total 5\n');
    expect(text).toContain('threadline_log_spool_bytes 900\n');
  });
});

describe('routeOf', () => {
  it('gives the route template, or unmatched', () => {
    const matched = { baseUrl: '', route: { path: '/api/v1/tasks/:id' } } as unknown as Request;
    expect(routeOf(matched)).toBe('/api/v1/tasks/:id');
    expect(routeOf({ baseUrl: '/x' } as unknown as Request)).toBe('unmatched');
  });
});

describe('scrapeRefusal', () => {
  const keys = parseApiKeys(`ops:${'a'.repeat(24)}:admin,app:${'b'.repeat(24)}`);

  it('lets anyone scrape with API keys off', () => {
    expect(scrapeRefusal([], undefined, undefined)).toBeUndefined();
  });

  it('asks for an admin key with API keys on', () => {
    expect(scrapeRefusal(keys, undefined, undefined)?.status).toBe(401);
    expect(scrapeRefusal(keys, `Bearer ${'b'.repeat(24)}`, undefined)?.status).toBe(403);
    expect(scrapeRefusal(keys, undefined, 'a'.repeat(24))).toBeUndefined();
  });
});
