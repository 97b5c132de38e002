import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FlowContext } from './flow-context';
import { FLOW_FIELDS, flowHeaders, flowLogFields, TRACE_ID_FIELDS } from './flow-fields';
import { continueTrace } from './ids';
import { decodeFlow, encodeFlow } from './job-meta.codec';

interface Mapping {
  type?: string;
  properties?: Record<string, Mapping>;
}

const template = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'elk', 'elasticsearch', 'index-template.json'), 'utf8'),
) as { template: { mappings: Mapping } };

/** The index template's mapping of a dotted log field, as Elasticsearch expands it. */
function mappingOf(field: string): Mapping | undefined {
  let mapping: Mapping | undefined = template.template.mappings;
  for (const part of field.split('.')) mapping = mapping?.properties?.[part];
  return mapping;
}

const logFields = FLOW_FIELDS.flatMap((field) =>
  field.log.map((log) => [field.context, log] as const),
);

describe('FLOW_FIELDS', () => {
  it.each(logFields)('%s is written as %j, which the index template maps so', (_context, log) => {
    expect(mappingOf(log.name)?.type).toBe(log.type);
  });

  it('names each context property, job metadata key, log field and header once', () => {
    const names = (values: (string | null)[]) => values.filter((v) => v !== null);
    for (const list of [
      FLOW_FIELDS.map((f) => f.context),
      names(FLOW_FIELDS.map((f) => f.meta)),
      names(FLOW_FIELDS.map((f) => f.header)),
      logFields.map(([, log]) => log.name),
    ]) {
      expect(new Set(list).size).toBe(list.length);
    }
  });

  it('derives the fields a trace starts from', () => {
    expect(TRACE_ID_FIELDS).toEqual(['request_id', 'correlation_id', 'task_id', 'trace.id']);
  });
});

describe('the job metadata codec', () => {
  const { trace } = continueTrace('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  const submitted: FlowContext = {
    request_id: 'req-1',
    correlation_id: 'flow-1',
    trace,
    tracestate: 'rojo=00f067aa0ba902b7',
    owner: 'alice',
    client: 'key:alice',
    grants: ['high'],
    version: 3,
  };
  const job = {
    task_id: '0b8c0c9e-7d0f-4a51-9d4c-3f1b7f2a9e11',
    task: { type: 'echo', queue: 'medium', attempt: 2, parent_id: 'parent-1' },
  };
  /** Through Redis: job data is stored as JSON. */
  const roundTrip = (context: FlowContext | undefined): FlowContext =>
    decodeFlow(JSON.parse(JSON.stringify(encodeFlow(context))) as object, job);

  it('carries every field that has a metadata key, and nothing else', () => {
    expect(encodeFlow(submitted)).toEqual({
      request_id: 'req-1',
      correlation_id: 'flow-1',
      traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-${trace.span_id}-01`,
      tracestate: 'rojo=00f067aa0ba902b7',
      owner: 'alice',
    });
    expect(Object.keys(encodeFlow(submitted)).sort()).toEqual(
      FLOW_FIELDS.flatMap((f) => (f.meta === null ? [] : [f.meta])).sort(),
    );
  });

  it('restores the flow around a run: the same IDs, a new span of the same trace, the task', () => {
    const restored = roundTrip(submitted);
    expect(restored).toEqual({
      request_id: 'req-1',
      correlation_id: 'flow-1',
      owner: 'alice',
      trace: {
        trace_id: trace.trace_id,
        parent_span_id: trace.span_id,
        span_id: expect.stringMatching(/^[0-9a-f]{16}$/) as unknown,
        flags: '01',
      },
      tracestate: 'rojo=00f067aa0ba902b7',
      ...job,
    });
    expect(restored.trace?.span_id).not.toBe(trace.span_id);
  });

  it('gives a task queued outside any flow a flow of its own, named after the task', () => {
    const restored = roundTrip(undefined);
    expect(restored).toMatchObject({ correlation_id: job.task_id, task_id: job.task_id });
    expect(restored.request_id).toBeUndefined();
    expect(restored.trace?.trace_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('stamps the restored run with every log field of the table that it knows', () => {
    const fields = flowLogFields(roundTrip(submitted));
    expect(fields).toEqual({
      request_id: 'req-1',
      correlation_id: 'flow-1',
      task_id: job.task_id,
      'trace.id': trace.trace_id,
      'span.id': expect.stringMatching(/^[0-9a-f]{16}$/) as unknown,
      'user.name': 'alice',
      'task.type': 'echo',
      'task.queue': 'medium',
      'task.attempt': 2,
      'task.parent_id': 'parent-1',
    });
  });
});

describe(flowLogFields.name, () => {
  it('writes the IDs as null while unknown, http.request.id on HTTP lines only', () => {
    expect(flowLogFields({ request_id: 'req-2' })).toEqual({
      request_id: 'req-2',
      'http.request.id': 'req-2',
      correlation_id: null,
      task_id: null,
    });
  });
});

describe(flowHeaders.name, () => {
  it('answers with the flow IDs the context holds now', () => {
    expect(flowHeaders({ request_id: 'r', correlation_id: 'c' })).toEqual([
      ['X-Request-ID', 'r'],
      ['X-Correlation-ID', 'c'],
    ]);
    expect(flowHeaders({ request_id: 'r', correlation_id: 'c', task_id: 't', owner: 'o' })).toEqual(
      [
        ['X-Request-ID', 'r'],
        ['X-Correlation-ID', 'c'],
        ['X-Task-ID', 't'],
      ],
    );
  });
});
