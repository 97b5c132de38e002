import type { ParseArgsConfig } from 'node:util';
import { FLOW_STATUS_FILTERS, FLOWS_MAX_LIMIT, type FlowFilter } from '../traces/flows/flow-filter';
import { type FlowParam, FlowParamError, flowFilterOf } from '../traces/flows/flow-params';
import { TIME_BOUND_RULE } from '../traces/time-bound';
import { UsageError } from './usage-error';

/** The options only `threadline flows` takes (it shares --since, --until, --limit, --format, --es-url, … with trace). */
export const FLOWS_OPTIONS = {
  status: { type: 'string' },
  type: { type: 'string' },
  queue: { type: 'string' },
  service: { type: 'string' },
  'min-duration': { type: 'string' },
  cursor: { type: 'string' },
  all: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

/** The filter options of `threadline flows`, as given. */
export interface FlowsValues {
  since?: string;
  until?: string;
  status?: string;
  type?: string;
  queue?: string;
  service?: string;
  'min-duration'?: string;
  limit?: string;
  cursor?: string;
}

/** What FLOW_SLOW_MS takes, as the API's configuration does (src/config/logs.settings.ts). */
const SLOW_MS_MAX = 86_400_000;
export const DEFAULT_SLOW_MS = 5000;

/** Each option, the API's parameter it is, and what it takes, for messages. */
const OPTIONS: Record<
  Exclude<FlowParam, 'histogram'>,
  { option: keyof FlowsValues; takes: string }
> = {
  since: {
    option: 'since',
    takes: `a duration back from now (15m, 1h, 7d), or ${TIME_BOUND_RULE}`,
  },
  until: { option: 'until', takes: 'the same as --since: 15m, 1h, now-5m, an ISO 8601 time' },
  status: { option: 'status', takes: `one of ${FLOW_STATUS_FILTERS.join(', ')}` },
  task_type: {
    option: 'type',
    takes: 'a task type like calculate_var (letters, digits and . _ : / -, at most 128)',
  },
  queue: { option: 'queue', takes: 'a queue like high (letters, digits and . _ : / -)' },
  service: {
    option: 'service',
    takes: 'a service like threadline-worker or nginx (letters, digits and . _ : / -)',
  },
  min_duration_ms: {
    option: 'min-duration',
    takes: 'milliseconds (1500) or a duration like 500ms, 2s, 1m, up to a year',
  },
  limit: { option: 'limit', takes: `a whole number of flows from 1 to ${FLOWS_MAX_LIMIT}` },
  cursor: {
    option: 'cursor',
    takes:
      'a next page cursor as threadline printed it, with the same filters (or none, to start again)',
  },
};

const DURATION_BACK = /^(\d{1,9})([smhdw])$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since 1h` is `now-1h`; an ISO time or date math stays as it is (flowFilterOf checks it). */
export function timeBoundOf(given: string): string {
  const m = DURATION_BACK.exec(given);
  return m ? `now-${m[1]}${m[2]}` : given;
}

/**
 * `--min-duration` in whole milliseconds: `1500`, `500ms`, `2s`, `1.5s`, `1m`, `1h`, `1d`;
 * anything else as it was given, for flowFilterOf to refuse.
 */
export function durationMsOf(given: string): string {
  const m = /^(\d{1,12}(?:\.\d{1,3})?)(ms|s|m|h|d)?$/.exec(given);
  if (!m) return given;
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? 'ms'];
  return Number.isInteger(ms) ? String(ms) : given;
}

/** FLOW_SLOW_MS, as the API reads it: what `--status slow` and a row's slow mark mean. */
export function slowMsOf(given: string | undefined): number {
  if (given === undefined || given.trim() === '') return DEFAULT_SLOW_MS;
  const ms = /^\d{1,8}$/.test(given.trim()) ? Number(given.trim()) : NaN;
  if (!(ms >= 1 && ms <= SLOW_MS_MAX)) {
    throw new UsageError(
      `FLOW_SLOW_MS must be a whole number of milliseconds from 1 to ${SLOW_MS_MAX}, not "${given}"`,
    );
  }
  return ms;
}

/**
 * The flow filter the options ask for, checked as the API checks its query (flowFilterOf):
 * the same defaults (the last hour, 20 flows), limits and cursor.
 * @throws UsageError naming the option it cannot take, and what it takes
 */
export function flowsFilterOf(values: FlowsValues, slowMs: number): FlowFilter {
  const query: Record<string, string> = {};
  const put = (param: FlowParam, value: string | undefined): void => {
    if (value !== undefined) query[param] = value;
  };
  put('since', values.since === undefined ? undefined : timeBoundOf(values.since));
  put('until', values.until === undefined ? undefined : timeBoundOf(values.until));
  put('status', values.status);
  put('task_type', values.type);
  put('queue', values.queue);
  put('service', values.service);
  put(
    'min_duration_ms',
    values['min-duration'] === undefined ? undefined : durationMsOf(values['min-duration']),
  );
  put('limit', values.limit);
  put('cursor', values.cursor);
  try {
    const { histogram: _histogram, ...filter } = flowFilterOf(query, slowMs);
    return filter;
  } catch (error) {
    if (!(error instanceof FlowParamError)) throw error;
    const known = error.param in OPTIONS ? OPTIONS[error.param as keyof typeof OPTIONS] : null;
    if (!known) throw new UsageError(error.message);
    if (known.option === 'cursor') throw new UsageError(`--cursor must be ${known.takes}`);
    throw new UsageError(
      `--${known.option} must be ${known.takes}, not "${values[known.option] ?? ''}"`,
    );
  }
}
