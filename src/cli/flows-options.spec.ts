import { FLOWS_DEFAULT_LIMIT } from '../traces/flows/flow-filter';
import {
  DEFAULT_SLOW_MS,
  durationMsOf,
  flowsFilterOf,
  slowMsOf,
  timeBoundOf,
} from './flows-options';
import { UsageError } from './usage-error';

/** The message an option is refused with. */
function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error('accepted');
}

describe(timeBoundOf.name, () => {
  it.each([
    ['15m', 'now-15m'],
    ['1h', 'now-1h'],
    ['7d', 'now-7d'],
    ['90s', 'now-90s'],
    ['2w', 'now-2w'],
  ])('takes the duration %s as %s', (given, bound) => {
    expect(timeBoundOf(given)).toBe(bound);
  });

  it.each(['now-1h', 'now', '2026-01-31', '2026-01-31T09:00:00Z', 'yesterday', '1y', '-1h'])(
    'leaves %s as it is, for flowFilterOf to judge',
    (given) => {
      expect(timeBoundOf(given)).toBe(given);
    },
  );
});

describe(durationMsOf.name, () => {
  it.each([
    ['1500', '1500'],
    ['0', '0'],
    ['500ms', '500'],
    ['2s', '2000'],
    ['1.5s', '1500'],
    ['1m', '60000'],
    ['1h', '3600000'],
    ['1d', '86400000'],
  ])('reads %s as %s ms', (given, ms) => {
    expect(durationMsOf(given)).toBe(ms);
  });

  it.each(['2x', '-1', '1.5', '1.5ms', 's', ''])('leaves %s as it is', (given) => {
    expect(durationMsOf(given)).toBe(given);
  });
});

describe(slowMsOf.name, () => {
  it('is 5000 ms when FLOW_SLOW_MS is unset or empty, else its value', () => {
    expect([slowMsOf(undefined), slowMsOf(''), slowMsOf('250')]).toEqual([
      DEFAULT_SLOW_MS,
      DEFAULT_SLOW_MS,
      250,
    ]);
  });

  it.each(['0', '-5', '5s', '86400001'])('refuses FLOW_SLOW_MS=%s, naming it', (given) => {
    expect(refusal(() => slowMsOf(given))).toMatch(/^FLOW_SLOW_MS must be .*, not "/);
  });
});

describe(flowsFilterOf.name, () => {
  it('asks for the last hour, 20 flows, with no option', () => {
    expect(flowsFilterOf({}, 5000)).toEqual({
      since: 'now-1h',
      until: 'now',
      slowMs: 5000,
      limit: FLOWS_DEFAULT_LIMIT,
    });
  });

  it('takes every option as the API takes its parameter', () => {
    expect(
      flowsFilterOf(
        {
          since: '1h',
          until: '2026-01-31T09:00:00Z',
          status: 'failed',
          type: 'calculate_var',
          queue: 'high',
          service: 'threadline-worker',
          'min-duration': '2s',
          limit: '5',
        },
        100,
      ),
    ).toEqual({
      since: 'now-1h',
      until: '2026-01-31T09:00:00Z',
      status: 'failed',
      taskType: 'calculate_var',
      queue: 'high',
      service: 'threadline-worker',
      minDurationMs: 2000,
      slowMs: 100,
      limit: 5,
    });
  });

  it.each([
    [
      { status: 'bogus' },
      '--status must be one of failed, retried, slow, running, completed, not "bogus"',
    ],
    [{ since: 'yesterday' }, '--since must be a duration back from now'],
    [{ until: 'soon' }, '--until must be'],
    [{ type: 'a b' }, '--type must be a task type'],
    [{ queue: '*' }, '--queue must be'],
    [{ service: 'x y' }, '--service must be'],
    [{ 'min-duration': '2x' }, '--min-duration must be milliseconds'],
    [{ 'min-duration': '400d' }, '--min-duration must be'],
    [{ limit: '0' }, '--limit must be a whole number of flows from 1 to 100, not "0"'],
    [{ limit: '101' }, '--limit must be'],
    [{ cursor: 'not a cursor' }, '--cursor must be a next page cursor'],
  ])('refuses %j, naming the option', (values, message) => {
    expect(refusal(() => flowsFilterOf(values, 5000))).toContain(message);
  });
});
