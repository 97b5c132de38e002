import { randomFillSync, randomUUID } from 'node:crypto';

import type { TraceContext } from './flow-fields';

export type { TraceContext } from './flow-fields';

/**
 * The rule for inbound `X-Request-ID` and `X-Correlation-ID`: 1 to 128 characters from
 * `A–Z a–z 0–9 - _ . : / + = @ ~`. UUIDs, ULIDs, nginx's hex ids and base64 all pass;
 * anything that could break a log line or a header (control characters, CR/LF, spaces,
 * quotes, braces, `%`, non-ASCII) does not. nginx applies the same rule (elk/nginx).
 */
export const ID_PATTERN = /^[A-Za-z0-9._:/+=@~-]{1,128}$/;
export const ID_RULE = '1 to 128 characters from A-Z a-z 0-9 - _ . : / + = @ ~';

/** Why an inbound value was refused, in words that never quote the value. */
export function idProblem(value: string): string | undefined {
  if (ID_PATTERN.test(value)) return undefined;
  if (value.length === 0) return 'it is empty';
  if (value.length > 128) return `it is ${value.length} characters long (at most 128)`;
  if ([...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    return 'it contains control characters';
  }
  if (/[^\x20-\x7e]/.test(value)) return 'it contains non-ASCII characters';
  return 'it contains characters outside A-Z a-z 0-9 - _ . : / + = @ ~';
}

export function newId(): string {
  return randomUUID();
}

/** version-traceid-parentid-flags, then (in a version after 00 only) `-` and fields to come. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * Continues the trace of a valid W3C `traceparent` with a new span for this hop, or starts a
 * new trace when there is none or it is invalid. A version after `00` is read as the
 * specification asks: its first four fields as version 00's, whatever follows them (a later
 * version's fields) ignored, and passed on as version 00 with the sampled flag only.
 * @see https://www.w3.org/TR/trace-context/#traceparent-header
 * @see https://www.w3.org/TR/trace-context/#versioning-of-traceparent
 */
export function continueTrace(traceparent: string | undefined): {
  trace: TraceContext;
  valid: boolean;
} {
  const m = traceparent === undefined ? null : TRACEPARENT.exec(traceparent.trim());
  const valid =
    m !== null &&
    m[1] !== 'ff' &&
    // Version 00 has exactly four fields; only a later one may have more.
    (m[1] !== '00' || m[5] === undefined) &&
    !/^0+$/.test(m[2]) &&
    !/^0+$/.test(m[3]);
  if (valid && m) {
    const flags = m[1] === '00' ? m[4] : (parseInt(m[4], 16) & 1).toString(16).padStart(2, '0');
    return {
      trace: { trace_id: m[2], parent_span_id: m[3], span_id: newSpanId(), flags },
      valid,
    };
  }
  return {
    trace: { trace_id: randomHex(32), span_id: newSpanId(), flags: '01' },
    valid: false,
  };
}

/** W3C's bound on a `tracestate` a vendor must pass on (at most 32 list members). */
const TRACESTATE_MAX = 512;
const TRACESTATE = /^[\x20-\x7e]*$/;

/**
 * The inbound `tracestate` to pass on with the trace, or undefined when there is none, it is
 * longer than 512 characters, or it holds characters no list member may (W3C lets a vendor
 * drop such a header; the trace itself is kept).
 * @see https://www.w3.org/TR/trace-context/#tracestate-header
 */
export function inboundTracestate(header: string | string[] | undefined): string | undefined {
  // Several tracestate headers are one list, in order.
  const value = (Array.isArray(header) ? header.join(',') : header)?.trim();
  if (!value || value.length > TRACESTATE_MAX || !TRACESTATE.test(value)) return undefined;
  return value;
}

/** The `traceparent` that hands this hop's span on to the next one. */
export function traceparentOf(trace: TraceContext): string {
  return `00-${trace.trace_id}-${trace.span_id}-${trace.flags}`;
}

function newSpanId(): string {
  return randomHex(16);
}

/** Random bytes drawn from the CSPRNG in blocks, as randomUUID draws its own. */
const entropy = Buffer.allocUnsafe(4096);
let drawn = entropy.length;

/**
 * `length` random hex digits, from a pool refilled every few hundred ids: one call to the
 * CSPRNG and one hex encoding of a slice, not a UUID taken apart and glued together per id.
 */
function randomHex(length: number): string {
  const bytes = Math.ceil(length / 2);
  if (drawn + bytes > entropy.length) {
    randomFillSync(entropy);
    drawn = 0;
  }
  const hex = entropy.toString('hex', drawn, drawn + bytes);
  drawn += bytes;
  return hex.length === length ? hex : hex.slice(0, length);
}
