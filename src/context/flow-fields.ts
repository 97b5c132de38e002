/**
 * W3C Trace Context of the current hop (declared here, in a file without Node imports,
 * because the trace page's browser script reads these types too).
 */
export interface TraceContext {
  trace_id: string;
  span_id: string;
  parent_span_id?: string;
  flags: string;
}

/** The task a worker is running: read from its job, not from the job's metadata. */
export interface TaskFields {
  type: string;
  queue: string;
  attempt: number;
  parent_id?: string;
}

/** What a flow field holds: an ID, the W3C trace of the current hop, or the running task. */
interface FieldValues {
  id: string;
  trace: TraceContext;
  task: TaskFields;
}

/** A log field that a flow field is written as. */
export interface FlowLogField {
  /** Its name in a log line (ECS dotted form). */
  readonly name: string;
  /** Its type in the index template (elk/elasticsearch/index-template.json; a spec checks it). */
  readonly type: 'keyword' | 'integer';
  /** A trace can start from it: `GET /api/v1/traces/:id` and `threadline trace` search it. */
  readonly traceId: boolean;
  /**
   * Which lines carry it: `always` (null while unknown), `when-set`, or `http` (lines of an
   * HTTP request, not of a task run).
   */
  readonly written: 'always' | 'when-set' | 'http';
  /** For a trace or a task: the property of that value it is. */
  readonly part?: string;
}

/** A flow-wide field: its name in the context and where it goes from there. */
export interface FlowField {
  /** Its property in FlowContext. */
  readonly context: string;
  readonly kind: keyof FieldValues;
  /** Its key in a job's metadata (`TaskEnvelope.meta`); null when the worker reads it off the job. */
  readonly meta: string | null;
  /** The response header that carries it, or null. */
  readonly header: string | null;
  readonly log: readonly FlowLogField[];
}

/**
 * The flow-wide fields. Everything else derives from this table: the context's type
 * (`FlowFields`), the job metadata and its codec (`job-meta.codec.ts`), the log fields every
 * line is stamped with (`flowLogFields`), the response headers (`flowHeaders`) and the fields
 * a trace can start from (`TRACE_ID_FIELDS`). Adding a flow-wide field is one entry here.
 * @see docs/correlation.md#adding-a-flow-wide-field
 */
export const FLOW_FIELDS = [
  {
    // One HTTP request; a task's lines carry the request that submitted it.
    context: 'request_id',
    kind: 'id',
    meta: 'request_id',
    header: 'X-Request-ID',
    log: [
      { name: 'request_id', type: 'keyword', traceId: true, written: 'always' },
      { name: 'http.request.id', type: 'keyword', traceId: false, written: 'http' },
    ],
  },
  {
    // One business flow: every attempt and child of its tasks, and every poll of them.
    context: 'correlation_id',
    kind: 'id',
    meta: 'correlation_id',
    header: 'X-Correlation-ID',
    log: [{ name: 'correlation_id', type: 'keyword', traceId: true, written: 'always' }],
  },
  {
    // One task: the BullMQ job id, so the worker reads it off the job.
    context: 'task_id',
    kind: 'id',
    meta: null,
    header: 'X-Task-ID',
    log: [{ name: 'task_id', type: 'keyword', traceId: true, written: 'always' }],
  },
  {
    // W3C Trace Context: each run of a task is a new span of the submitting request's trace.
    context: 'trace',
    kind: 'trace',
    meta: 'traceparent',
    header: null,
    log: [
      { name: 'trace.id', type: 'keyword', traceId: true, written: 'when-set', part: 'trace_id' },
      { name: 'span.id', type: 'keyword', traceId: false, written: 'when-set', part: 'span_id' },
    ],
  },
  {
    // W3C Trace Context's vendor list, passed on with the trace to the worker, never logged
    // (it is the trace vendors' own data, and may be 512 characters long).
    context: 'tracestate',
    kind: 'id',
    meta: 'tracestate',
    header: null,
    log: [],
  },
  {
    // The API key (its name) the flow was submitted with (API_KEYS); only it may see its tasks.
    context: 'owner',
    kind: 'id',
    meta: 'owner',
    header: null,
    log: [{ name: 'user.name', type: 'keyword', traceId: false, written: 'when-set' }],
  },
  {
    // The task a worker is running (type, queue, attempt, parent), read off its job.
    context: 'task',
    kind: 'task',
    meta: null,
    header: null,
    log: [
      { name: 'task.type', type: 'keyword', traceId: false, written: 'when-set', part: 'type' },
      { name: 'task.queue', type: 'keyword', traceId: false, written: 'when-set', part: 'queue' },
      {
        name: 'task.attempt',
        type: 'integer',
        traceId: false,
        written: 'when-set',
        part: 'attempt',
      },
      {
        name: 'task.parent_id',
        type: 'keyword',
        traceId: false,
        written: 'when-set',
        part: 'parent_id',
      },
    ],
  },
] as const satisfies readonly FlowField[];

type Row = (typeof FLOW_FIELDS)[number];

/** The flow-wide fields of a FlowContext, typed from the table. */
export type FlowFields = { [R in Row as R['context']]?: FieldValues[R['kind']] };

/** The part of a job's metadata that carries its flow across the queue (see job-meta.codec.ts). */
export type FlowMeta = { [R in Row as R['meta'] extends string ? R['meta'] : never]?: string };

type LogFieldOf<R> = R extends { readonly log: readonly (infer L)[] } ? L : never;
type TraceIdLogField = Extract<LogFieldOf<Row>, { readonly traceId: true }>;

/** A log field a trace can start from. */
export type TraceIdField = TraceIdLogField['name'];

/** The log fields a trace can start from, in table order. */
export const TRACE_ID_FIELDS: readonly TraceIdField[] = FLOW_FIELDS.flatMap<LogFieldOf<Row>>(
  (field) => field.log,
)
  .filter((log): log is TraceIdLogField => log.traceId)
  .map((log) => log.name);

/**
 * The flow's fields for a log line: the IDs as top-level keyword fields, trace and task
 * fields in ECS dotted form, in table order.
 */
export function flowLogFields(context: FlowFields): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const field of FLOW_FIELDS) {
    const value: unknown = context[field.context];
    for (const log of field.log) {
      if (log.written === 'http' && context.task !== undefined) continue;
      const logged = 'part' in log ? member(value, log.part) : value;
      if (logged !== undefined) fields[log.name] = logged;
      else if (log.written === 'always') fields[log.name] = null;
    }
  }
  return fields;
}

/** The response headers that carry the flow's fields, as they are now. */
export function flowHeaders(context: FlowFields): [name: string, value: string][] {
  const headers: [string, string][] = [];
  for (const field of FLOW_FIELDS) {
    const value = context[field.context];
    if (field.header !== null && typeof value === 'string') headers.push([field.header, value]);
  }
  return headers;
}

function member(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)[name]
    : undefined;
}
