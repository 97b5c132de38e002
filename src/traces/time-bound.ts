/** What `since` and `until` take: an ISO 8601 time, or Elasticsearch date math from `now`. */
export const TIME_BOUND_RULE =
  'an ISO 8601 time (2026-01-31 or 2026-01-31T09:00:00Z) or date math from now (now-1h, now-7d/d)';

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const DATE_MATH = /^now([+-]\d{1,9}[yMwdhHms])*(\/[yMwdhHms])?$/;

/** True when Elasticsearch will understand `value` as a range bound on `@timestamp`. */
export function isTimeBound(value: string): boolean {
  return DATE_MATH.test(value) || (ISO.test(value) && Number.isFinite(Date.parse(value)));
}
