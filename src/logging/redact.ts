/** What replaces a secret in a log line. */
export const REDACTED = '[Redacted]';

/** Header names whose values are never written. */
const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
]);

/** Field names that hold secrets: passwords, secrets, tokens, API keys, credentials. */
const SECRET_NAME =
  /pass(word|wd|phrase)?|secret|token|api[-_]?key|credential|private[-_]?key|authorization|cookie/i;

/** Headers already written as validated fields (request_id, …): never copied raw. */
const ID_HEADERS = new Set(['x-request-id', 'x-correlation-id', 'traceparent', 'tracestate']);

/** A copy of `value` with every field named like a secret replaced by `[Redacted]`, at any depth. */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (depth > 20 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    out[key] = SECRET_NAME.test(key) ? REDACTED : redactDeep(v, depth + 1);
  }
  return out;
}

/** Request headers fit for a log line: secrets redacted, ID headers left out, values bounded. */
export function loggableHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined || ID_HEADERS.has(name)) continue;
    const value = Array.isArray(raw) ? raw.join(', ') : raw;
    out[name] = SECRET_HEADERS.has(name) || SECRET_NAME.test(name) ? REDACTED : value.slice(0, 512);
  }
  return out;
}
