// A host process with an OpenTelemetry SDK registered (node --require, the SDK's in-memory
// exporter: test/support/otel-sdk.cjs): the API and the worker continue its trace, so that the
// exported spans and Threadline's lines join on trace.id and span.id.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, repoRoot } from '../support/services';
import { TestStack } from '../support/stack';

interface ExportedSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  traceState?: string;
  parentSpanId?: string;
  status: { code: number; message?: string };
  attributes: Record<string, unknown>;
}

/** SpanKind of @opentelemetry/api. */
const SERVER = 1;
const CONSUMER = 4;
/** SpanStatusCode.ERROR. */
const ERROR = 2;

const dir = mkdtempSync(join(tmpdir(), 'threadline-otel-'));
const sdk = (name: string): Record<string, string> => ({
  NODE_OPTIONS: `--require ${join(repoRoot, 'test', 'support', 'otel-sdk.cjs')}`,
  OTEL_TEST_SPANS: join(dir, `${name}.json`),
});

function exported(name: string): ExportedSpan[] {
  const file = join(dir, `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ExportedSpan[]) : [];
}

/** Waits until the process `name` has exported a span that `match` picks. */
function spanOf(name: string, match: (span: ExportedSpan) => boolean): Promise<ExportedSpan> {
  return eventually(
    () => Promise.resolve(exported(name).find(match)),
    `the ${name}'s SDK to export the span`,
  );
}

describe('with an OpenTelemetry SDK in the host process', () => {
  const stack = new TestStack({ LOG_LEVEL: 'info', TASK_FAULT_INJECTION: 'true' });
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const callerSpan = '00f067aa0ba902b7';

  beforeAll(async () => {
    await stack.startApi(sdk('api'));
    await stack.startWorker(sdk('worker'));
  });
  afterAll(() => stack.stop());

  /** The lines of `taskId`'s flow written by `service`. */
  const linesOf = (taskId: string, service: string): Record<string, unknown>[] =>
    stack.logLines().filter((line) => line.task_id === taskId && line['service.name'] === service);

  it("continues the caller's trace: the spans' ids are the lines' ids, API and worker", async () => {
    const reply = await stack.request<{ task_id: string }>(
      'POST',
      '/api/v1/tasks',
      { type: 'echo', data: { message: 'traced' } },
      { traceparent: `00-${traceId}-${callerSpan}-01`, tracestate: 'vendor=opaque-value' },
    );
    expect(reply.status).toBe(202);
    const id = reply.body.task_id;
    await stack.until(id, ['completed']);

    const server = await spanOf('api', (s) => s.kind === SERVER && s.traceId === traceId);
    expect(server).toMatchObject({
      name: 'POST /api/v1/tasks',
      parentSpanId: callerSpan,
      traceState: 'vendor=opaque-value',
      attributes: { 'http.route': '/api/v1/tasks', 'http.response.status_code': 202 },
    });
    // The submit's lines (the polls that follow are requests, and traces, of their own).
    const submitId = reply.headers.get('x-request-id');
    const apiLines = linesOf(id, 'threadline-api').filter((l) => l.request_id === submitId);
    expect(apiLines.length).toBeGreaterThan(0);
    for (const line of apiLines) {
      expect([line['trace.id'], line['span.id']]).toEqual([traceId, server.spanId]);
    }

    // The job carried the API span's traceparent and the tracestate: the run is its child.
    const consumer = await spanOf('worker', (s) => s.kind === CONSUMER && s.traceId === traceId);
    expect(consumer).toMatchObject({
      name: 'process medium',
      parentSpanId: server.spanId,
      traceState: 'vendor=opaque-value',
      attributes: { 'messaging.message.id': id, 'threadline.task.type': 'echo' },
    });
    expect(consumer.status.code).not.toBe(ERROR);
    const workerLines = linesOf(id, 'threadline-worker');
    expect(workerLines.map((l) => l['event.action'])).toEqual(
      expect.arrayContaining(['task-started', 'task-completed']),
    );
    for (const line of workerLines) {
      expect([line['trace.id'], line['span.id']]).toEqual([traceId, consumer.spanId]);
    }
  });

  it("starts a trace of the SDK's own without a traceparent, and marks a failed run's span", async () => {
    const task = await stack.submit('echo', { fail: { kind: 'fatal' } });
    await stack.until(task.task_id, ['failed']);
    const [apiLine] = linesOf(task.task_id, 'threadline-api').filter(
      (l) => l['event.action'] === 'task-queued',
    );
    const server = await spanOf('api', (s) => s.spanId === apiLine['span.id']);
    expect(server).toMatchObject({ kind: SERVER, traceId: apiLine['trace.id'] });
    expect(server.parentSpanId).toBeUndefined();
    const consumer = await spanOf('worker', (s) => s.parentSpanId === server.spanId);
    expect(consumer.status).toMatchObject({ code: ERROR });
    for (const line of linesOf(task.task_id, 'threadline-worker')) {
      expect([line['trace.id'], line['span.id']]).toEqual([server.traceId, consumer.spanId]);
    }
  });
});
