import {
  type Attributes,
  type Context,
  context as otelContext,
  createTraceState,
  isSpanContextValid,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  type SpanKind,
  SpanStatusCode,
  trace as otelTrace,
} from '@opentelemetry/api';
import type { TraceContext } from './flow-fields';

/**
 * The OpenTelemetry API's tracer: a no-op until the host process registers an SDK (whenever it
 * does), then the SDK's. Threadline never registers one itself.
 */
const tracer = otelTrace.getTracer('threadline');

/** The API's no-op provider, which a proxy hands out until an SDK is registered. */
const NO_SDK = new ProxyTracerProvider().getDelegate();

/**
 * Whether the host process has registered an OpenTelemetry SDK: a few property reads, so that
 * without one a request or a task run costs nothing more (no span, no parsed tracestate).
 */
function sdkRegistered(): boolean {
  const provider = otelTrace.getTracerProvider();
  // A provider of another copy of the API is some SDK's.
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NO_SDK;
}

/** A span of this hop, made by the host's OpenTelemetry SDK. */
export interface HopSpan {
  /** The hop's trace as Threadline's lines carry it: the span's own ids. */
  readonly trace: TraceContext;
  /** The span's `tracestate`, to pass on with the trace. */
  readonly tracestate: string | undefined;
  /** Runs `fn` with the span active, so that the host's instrumentations nest under it. */
  run<T>(fn: () => T): T;
  /** Ends the span, renamed and with more attributes when given; `error` marks it failed. */
  end(outcome?: { name?: string; attributes?: Attributes; error?: string }): void;
  /** Records `error` on the span and marks it failed (it still has to be ended). */
  fail(error: Error): void;
}

/**
 * The span the host's SDK has active now, made in this process (an HTTP instrumentation's server
 * span, say), as this hop's trace: Threadline's lines then carry its ids. Undefined without one.
 */
export function activeTrace(): (TraceContext & { tracestate?: string }) | undefined {
  if (!sdkRegistered()) return undefined;
  const span = otelTrace.getActiveSpan();
  const ids = span?.spanContext();
  if (!ids || ids.isRemote || !isSpanContextValid(ids)) return undefined;
  const tracestate = ids.traceState?.serialize();
  return {
    trace_id: ids.traceId,
    span_id: ids.spanId,
    flags: flagsOf(ids.traceFlags),
    ...(tracestate ? { tracestate } : {}),
  };
}

/**
 * Starts this hop's span as a child of `trace`'s parent (the caller's span, from its
 * `traceparent`; a new trace without one) when the host process has an OpenTelemetry SDK, and
 * returns it; returns undefined without an SDK, and the hop keeps the span Threadline made.
 * The API's no-op tracer hands back the parent's own ids, which is how the two are told apart.
 */
export function startHopSpan(
  name: string,
  kind: SpanKind,
  trace: TraceContext,
  tracestate: string | undefined,
  attributes: Attributes,
): HopSpan | undefined {
  if (!sdkRegistered()) return undefined;
  const parent = parentContext(trace, tracestate);
  const span = tracer.startSpan(name, { kind, attributes }, parent);
  const ids = span.spanContext();
  if (!isSpanContextValid(ids) || ids.spanId === trace.parent_span_id) return undefined;
  const active = otelTrace.setSpan(parent, span);
  return {
    trace: {
      trace_id: ids.traceId,
      span_id: ids.spanId,
      flags: flagsOf(ids.traceFlags),
      ...(trace.parent_span_id === undefined ? {} : { parent_span_id: trace.parent_span_id }),
    },
    tracestate: ids.traceState?.serialize() || tracestate,
    run: (fn) => otelContext.with(active, fn),
    end: (outcome = {}) => endSpan(span, outcome),
    fail: (error) => {
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    },
  };
}

function endSpan(
  span: Span,
  { name, attributes, error }: { name?: string; attributes?: Attributes; error?: string },
): void {
  if (name !== undefined) span.updateName(name);
  if (attributes) span.setAttributes(attributes);
  if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
  span.end();
}

/** The context whose span is `trace`'s parent (remote: it came with the request or the job). */
function parentContext(trace: TraceContext, tracestate: string | undefined): Context {
  if (trace.parent_span_id === undefined) return ROOT_CONTEXT;
  return otelTrace.setSpanContext(ROOT_CONTEXT, {
    traceId: trace.trace_id,
    spanId: trace.parent_span_id,
    traceFlags: parseInt(trace.flags, 16),
    isRemote: true,
    ...(tracestate === undefined ? {} : { traceState: createTraceState(tracestate) }),
  });
}

function flagsOf(traceFlags: number): string {
  return traceFlags.toString(16).padStart(2, '0');
}
