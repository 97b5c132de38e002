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

/** Headers copied into the access line; any other header is left out, whatever it holds. */
const LOGGED_HEADERS = new Set([
  'host',
  'user-agent',
  'content-type',
  'content-length',
  'accept',
  'accept-encoding',
  'origin',
  'referer',
]);

/** What replaces anything nested deeper than a log line goes. */
export const TRUNCATED = '[Truncated]';
const MAX_DEPTH = 20;

/**
 * A copy of `value` with every field named like a secret replaced by `[Redacted]`, at any
 * depth; anything nested deeper than 20 levels is cut off as `[Truncated]`, never copied.
 */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return TRUNCATED;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    out[key] = SECRET_NAME.test(key) ? REDACTED : redactDeep(v, depth + 1);
  }
  return out;
}

/**
 * Request headers fit for a log line: an allowlist of plain ones (values cut at 256
 * characters), and the presence of secret ones as `[Redacted]`. The ID headers are not here:
 * they are logged validated, as request_id and correlation_id.
 */
export function loggableHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined) continue;
    if (SECRET_HEADERS.has(name) || SECRET_NAME.test(name)) out[name] = REDACTED;
    else if (LOGGED_HEADERS.has(name)) {
      out[name] = (Array.isArray(raw) ? raw.join(', ') : raw).slice(0, 256);
    }
  }
  return out;
}
