import { isTimeBound, TIME_BOUND_RULE } from '../time-bound';
import {
  decodeCursor,
  FLOW_STATUS_FILTERS,
  FLOWS_DEFAULT_LIMIT,
  FLOWS_MAX_LIMIT,
  type FlowFilter,
  type FlowStatusFilter,
} from './flow-filter';

/** The query parameters of `GET /api/v1/flows`, each with what it takes. */
export const FLOW_PARAMS = {
  since: `${TIME_BOUND_RULE}; default now-1h`,
  until: `the same; default now`,
  status: FLOW_STATUS_FILTERS.join(', '),
  task_type: 'a task type, e.g. calculate_var',
  queue: 'a queue, e.g. high',
  service: 'a service, e.g. threadline-worker or nginx',
  min_duration_ms: 'a whole number of milliseconds',
  limit: `1 to ${FLOWS_MAX_LIMIT}; default ${FLOWS_DEFAULT_LIMIT}`,
  cursor: 'the next_cursor of the page before',
  histogram: 'true or false: also count flows over the window (the trace page draws it)',
} as const;
export type FlowParam = keyof typeof FLOW_PARAMS;

/** A name as task types, queues and services have them: no spaces, no wildcards. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
/** A year: a longer min_duration_ms is surely a mistake. */
const MAX_DURATION_MS = 366 * 86_400_000;

/** A parameter the list cannot take: which, and what it takes instead. */
export class FlowParamError extends Error {
  constructor(
    readonly param: string,
    detail: string,
  ) {
    super(detail);
  }
}

/**
 * The flow filter a query string asks for.
 * @param slowMs FLOW_SLOW_MS: what status=slow means without min_duration_ms
 * @throws FlowParamError naming the first parameter it cannot take
 */
export function flowFilterOf(
  query: Record<string, unknown>,
  slowMs: number,
): FlowFilter & { histogram: boolean } {
  for (const name of Object.keys(query)) {
    if (!(name in FLOW_PARAMS)) {
      throw new FlowParamError(
        name,
        `${name} is not a parameter of the flow list; it takes ${Object.keys(FLOW_PARAMS).join(', ')}.`,
      );
    }
  }
  const value = (name: FlowParam): string | undefined => {
    const given = query[name];
    if (given === undefined) return undefined;
    if (typeof given !== 'string') {
      throw new FlowParamError(name, `${name} may be given once, as ${FLOW_PARAMS[name]}.`);
    }
    return given;
  };
  const since = value('since') ?? 'now-1h';
  const until = value('until') ?? 'now';
  for (const [name, bound] of [
    ['since', since],
    ['until', until],
  ] as const) {
    if (!isTimeBound(bound)) {
      throw new FlowParamError(name, `${name} must be ${TIME_BOUND_RULE}, e.g. ?${name}=now-1h.`);
    }
  }
  const status = value('status');
  if (status !== undefined && !(FLOW_STATUS_FILTERS as readonly string[]).includes(status)) {
    throw new FlowParamError(
      'status',
      `status must be one of ${FLOW_PARAMS.status}, not ${status}.`,
    );
  }
  const names: Partial<Record<'taskType' | 'queue' | 'service', string>> = {};
  for (const [name, key] of [
    ['task_type', 'taskType'],
    ['queue', 'queue'],
    ['service', 'service'],
  ] as const) {
    const given = value(name);
    if (given === undefined) continue;
    if (!NAME.test(given)) {
      throw new FlowParamError(
        name,
        `${name} must be ${FLOW_PARAMS[name]}: letters, digits and . _ : / -, at most 128.`,
      );
    }
    names[key] = given;
  }
  const minDurationMs = wholeNumber(
    value('min_duration_ms'),
    'min_duration_ms',
    0,
    MAX_DURATION_MS,
  );
  const limit = wholeNumber(value('limit'), 'limit', 1, FLOWS_MAX_LIMIT) ?? FLOWS_DEFAULT_LIMIT;
  const cursor = value('cursor');
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  if (cursor !== undefined && !after) {
    throw new FlowParamError(
      'cursor',
      'cursor is not one this API gave: pass a next_cursor as it came, or start again without one.',
    );
  }
  const histogram = value('histogram');
  if (histogram !== undefined && histogram !== 'true' && histogram !== 'false') {
    throw new FlowParamError('histogram', `histogram must be true or false, not ${histogram}.`);
  }
  return {
    since,
    until,
    ...(status ? { status: status as FlowStatusFilter } : {}),
    ...names,
    ...(minDurationMs === undefined ? {} : { minDurationMs }),
    slowMs,
    limit,
    ...(after ? { after } : {}),
    histogram: histogram === 'true',
  };
}

function wholeNumber(
  given: string | undefined,
  name: FlowParam,
  min: number,
  max: number,
): number | undefined {
  if (given === undefined) return undefined;
  const n = /^\d{1,15}$/.test(given) ? Number(given) : NaN;
  if (!(n >= min && n <= max)) {
    throw new FlowParamError(
      name,
      `${name} must be a whole number from ${min} to ${max}, not ${given}.`,
    );
  }
  return n;
}
