import { isTimeBound } from './time-bound';

describe('time bounds of a trace', () => {
  it.each([
    '2026-01-31',
    '2026-01-31T09:00',
    '2026-01-31T09:00:00.123Z',
    '2026-01-31T09:00:00+02:00',
    'now',
    'now-1h',
    'now-7d/d',
    'now+15m-2s',
  ])('accepts %s', (value) => expect(isTimeBound(value)).toBe(true));

  it.each([
    '',
    'yesterday',
    '2026-13-45',
    'now-',
    'now-1x',
    '\u0019<¥',
    '2026-01-31 09:00',
    'now-1h; drop',
  ])('refuses %j', (value) => expect(isTimeBound(value)).toBe(false));
});
