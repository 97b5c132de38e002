import { decodeCursor, encodeCursor, FLOWS_DEFAULT_LIMIT, FLOWS_MAX_LIMIT } from './flow-filter';
import { FlowParamError, flowFilterOf } from './flow-params';

const SLOW_MS = 5000;

/** The parameter and message a query string's filter is refused with. */
function refusal(query: Record<string, unknown>): { param: string; message: string } {
  try {
    flowFilterOf(query, SLOW_MS);
  } catch (error) {
    if (error instanceof FlowParamError) return { param: error.param, message: error.message };
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(query)}`);
}

describe(flowFilterOf.name, () => {
  it('lists the last hour, 20 flows, no filter, without a histogram, when asked nothing', () => {
    expect(flowFilterOf({}, SLOW_MS)).toEqual({
      since: 'now-1h',
      until: 'now',
      slowMs: SLOW_MS,
      limit: FLOWS_DEFAULT_LIMIT,
      histogram: false,
    });
  });

  it('takes every filter', () => {
    const after = { lastAt: Date.UTC(2026, 0, 1), seen: ['flow-9'] };
    expect(
      flowFilterOf(
        {
          since: '2026-01-01T00:00:00Z',
          until: 'now-5m',
          status: 'failed',
          task_type: 'calculate_var',
          queue: 'high',
          service: 'threadline-worker',
          min_duration_ms: '1500',
          limit: String(FLOWS_MAX_LIMIT),
          cursor: encodeCursor(after),
          histogram: 'true',
        },
        SLOW_MS,
      ),
    ).toEqual({
      since: '2026-01-01T00:00:00Z',
      until: 'now-5m',
      status: 'failed',
      taskType: 'calculate_var',
      queue: 'high',
      service: 'threadline-worker',
      minDurationMs: 1500,
      slowMs: SLOW_MS,
      limit: FLOWS_MAX_LIMIT,
      after,
      histogram: true,
    });
  });

  it.each([
    [
      { stauts: 'failed' },
      'stauts',
      /not a parameter of the flow list; it takes since, until, status/,
    ],
    [{ since: 'yesterday' }, 'since', /since must be an ISO 8601 time .* e\.g\. \?since=now-1h/],
    [
      { status: 'broken' },
      'status',
      /one of failed, retried, slow, running, completed, not broken/,
    ],
    [{ status: ['failed', 'slow'] }, 'status', /status may be given once/],
    [{ task_type: 'calc*' }, 'task_type', /letters, digits/],
    [{ service: 'x'.repeat(129) }, 'service', /at most 128/],
    [{ limit: '0' }, 'limit', /from 1 to 100, not 0/],
    [{ limit: '101' }, 'limit', /from 1 to 100, not 101/],
    [{ limit: '1e3' }, 'limit', /whole number/],
    [{ min_duration_ms: '-1' }, 'min_duration_ms', /whole number from 0/],
    [{ cursor: 'bm90IGEgY3Vyc29y' }, 'cursor', /not one this API gave/],
    [{ cursor: 'a b' }, 'cursor', /not one this API gave/],
    [{ histogram: 'yes' }, 'histogram', /true or false/],
  ])('refuses %j, naming %s', (query, param, message) => {
    const refused = refusal(query);
    expect(refused.param).toBe(param);
    expect(refused.message).toMatch(message);
  });
});

describe('the cursor', () => {
  it('comes back as it went', () => {
    const cursor = { lastAt: 1_767_225_600_123, seen: ['a', 'b/c'] };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it.each([
    ['not JSON', Buffer.from('{').toString('base64url')],
    ['not a pair', Buffer.from('[1]').toString('base64url')],
    ['a fractional time', Buffer.from('[1.5,[]]').toString('base64url')],
    ['IDs that are not strings', Buffer.from('[1,[2]]').toString('base64url')],
  ])('refuses %s', (_what, text) => {
    expect(decodeCursor(text)).toBeUndefined();
  });
});
