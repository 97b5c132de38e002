// An OpenTelemetry SDK registered the way a host process registers one (node --require): the
// Node tracer provider with the SDK's in-memory span exporter. What it has exported is written,
// every 100 ms and at exit, as JSON to the file OTEL_TEST_SPANS names, for a test to read.
'use strict';
const { writeFileSync, renameSync } = require('node:fs');
const {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
} = require('@opentelemetry/sdk-trace-node');

const exporter = new InMemorySpanExporter();
new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).register();

const file = process.env.OTEL_TEST_SPANS;
let written = -1;
function dump() {
  const spans = exporter.getFinishedSpans();
  if (!file || spans.length === written) return;
  written = spans.length;
  const json = spans.map((span) => ({
    name: span.name,
    kind: span.kind,
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    traceState: span.spanContext().traceState?.serialize(),
    parentSpanId: span.parentSpanContext?.spanId,
    status: span.status,
    attributes: span.attributes,
  }));
  writeFileSync(`${file}.tmp`, JSON.stringify(json));
  renameSync(`${file}.tmp`, file);
}
setInterval(dump, 100).unref();
process.on('exit', dump);
