import type { FlowContext } from './flow-context';
import { FLOW_FIELDS, type FlowMeta } from './flow-fields';
import { continueTrace, type TraceContext, traceparentOf } from './ids';

/** How each kind of flow field is written into job metadata (JSON text in Redis) and read back. */
const CODECS = {
  id: {
    encode: (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined),
    decode: (text: string | undefined): string | undefined => text,
  },
  trace: {
    encode: (value: unknown): string | undefined =>
      isTraceContext(value) ? traceparentOf(value) : undefined,
    // Each run is a new span of the submitter's trace (a new trace when there is none).
    decode: (text: string | undefined): TraceContext => continueTrace(text).trace,
  },
};

/**
 * The flow a task is queued in, as job metadata: every field of FLOW_FIELDS that has a
 * `meta` key and a value. Empty outside a flow.
 */
export function encodeFlow(context: FlowContext | undefined): FlowMeta {
  const meta: FlowMeta = {};
  if (!context) return meta;
  for (const field of FLOW_FIELDS) {
    if (field.meta === null) continue;
    const text = CODECS[field.kind].encode(context[field.context]);
    if (text !== undefined) meta[field.meta] = text;
  }
  return meta;
}

/**
 * The flow a task run belongs to, restored from its job's metadata, with what the job itself
 * says (`task_id`, `task`). A task queued outside any flow starts one of its own: its
 * `correlation_id` is its `task_id`.
 */
export function decodeFlow(
  meta: FlowMeta,
  job: Pick<FlowContext, 'task_id' | 'task'>,
): FlowContext {
  const context: FlowContext = { ...job };
  for (const field of FLOW_FIELDS) {
    if (field.meta === null) continue;
    const value = CODECS[field.kind].decode(meta[field.meta]);
    if (value !== undefined) Object.assign(context, { [field.context]: value });
  }
  context.correlation_id ??= job.task_id;
  return context;
}

function isTraceContext(value: unknown): value is TraceContext {
  if (typeof value !== 'object' || value === null) return false;
  const trace = value as Record<string, unknown>;
  return (
    typeof trace.trace_id === 'string' &&
    typeof trace.span_id === 'string' &&
    typeof trace.flags === 'string'
  );
}
