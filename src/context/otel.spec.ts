import { context, SpanKind, trace } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { continueTrace } from './ids';
import { activeTrace, startHopSpan } from './otel';

const caller = continueTrace('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01').trace;

describe('without an OpenTelemetry SDK', () => {
  it("makes no span: the hop keeps Threadline's own", () => {
    expect(startHopSpan('GET', SpanKind.SERVER, caller, undefined, {})).toBeUndefined();
    expect(activeTrace()).toBeUndefined();
  });
});

describe('with an OpenTelemetry SDK registered', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  beforeAll(() => provider.register());
  afterAll(() => provider.shutdown());

  it("starts the hop's span as the caller's child, and ends it with its outcome", () => {
    const hop = startHopSpan('GET', SpanKind.SERVER, caller, 'a=1', { 'url.path': '/x' });
    expect(hop?.trace).toMatchObject({
      trace_id: caller.trace_id,
      parent_span_id: '00f067aa0ba902b7',
    });
    expect(hop?.trace.span_id).not.toBe(caller.span_id);
    expect(hop?.tracestate).toBe('a=1');
    // Inside it, the span is active: what the host instruments nests under it.
    expect(hop?.run(() => activeTrace())).toMatchObject({ span_id: hop?.trace.span_id });
    hop?.end({ name: 'GET /x', error: 'HTTP 503' });
    const [span] = exporter.getFinishedSpans();
    expect([span.name, span.status.code, span.spanContext().spanId]).toEqual([
      'GET /x',
      2,
      hop?.trace.span_id,
    ]);
  });

  it("reads the host's active span (an HTTP instrumentation's) as the hop's trace", () => {
    const span = trace.getTracer('host').startSpan('host server span');
    const seen = context.with(trace.setSpan(context.active(), span), () => activeTrace());
    expect(seen).toEqual({
      trace_id: span.spanContext().traceId,
      span_id: span.spanContext().spanId,
      flags: '01',
    });
    span.end();
  });
});
