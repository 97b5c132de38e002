// A test stack as an operator would run it: the API and a worker behind a real nginx, the
// app shipping its own lines and rsyslog shipping nginx's, all into the stack's LOG_DATA_STREAM
// (TEST_DATA_STREAM unless the test gives it one of its own).
import { Client } from '@elastic/elasticsearch';
import { countDocs, type LogDoc } from './log-search';
import { LogStreams } from '../../src/config/data-streams';
import { startNginx, type Nginx } from './nginx';
import { startRsyslog, type Rsyslog } from './rsyslog';
import { ELASTICSEARCH_URL, eventually } from './services';
import type { Task, TestStack } from './stack';

export interface ShippedStack {
  nginx: Nginx;
  rsyslog: Rsyslog;
  /** Every line written so far by the stack's processes and by nginx. */
  written(): LogDoc[];
  /** Waits until every line written so far in these flows is searchable. */
  untilSearchable(correlationIds: readonly string[]): Promise<void>;
  /** Stops rsyslog, nginx and the stack's processes. */
  stop(): Promise<void>;
}

export async function startShippedStack(
  stack: TestStack,
  size: { apis?: number; workers?: number } = {},
): Promise<ShippedStack> {
  for (let i = 0; i < (size.apis ?? 1); i++) await stack.startApi();
  for (let i = 0; i < (size.workers ?? 1); i++) await stack.startWorker();
  await eventually(
    () => Promise.resolve(stack.allOutput().includes('es-template-installed') || undefined),
    'the API to install the index template',
  );
  const nginx = await startNginx(stack.apis.map((api) => Number(new URL(api.url).port)));
  const rsyslog = await startRsyslog({
    accessLog: nginx.accessLog,
    elasticsearchUrl: ELASTICSEARCH_URL,
    dataStream: new LogStreams(stack.env.LOG_DATA_STREAM).stream('nginx'),
  });
  const written = (): LogDoc[] => [...stack.logLines(), ...nginx.lines()];
  return {
    nginx,
    rsyslog,
    written,
    untilSearchable: async (correlationIds) => {
      const client = new Client({ node: ELASTICSEARCH_URL });
      const ids = new Set<unknown>(correlationIds);
      const query = { terms: { correlation_id: [...correlationIds] } };
      try {
        await eventually(async () => {
          const expected = written().filter((line) => ids.has(line.correlation_id)).length;
          const stored = await countDocs(client, stack.env.LOG_DATA_STREAM, query);
          return stored >= expected ? true : undefined;
        }, 'the flows in Elasticsearch');
      } finally {
        await client.close();
      }
    },
    stop: async () => {
      await rsyslog.stop();
      await nginx.stop();
      await stack.stop();
    },
  };
}

/** A small batch_var input (two children from two of these). */
export const PORTFOLIO = {
  method: 'parametric',
  positions: [{ asset: 'A', value: 100 }],
  covariance: [[0.0001]],
};

/** The env of a stack whose tasks may be told to fail (retries 200 ms apart). */
export const FAULTY_ENV = {
  LOG_LEVEL: 'info',
  TASK_FAULT_INJECTION: 'true',
  TASK_BACKOFF_MS: '200',
};

/** Submits a task through nginx in the flow `correlationId`; returns it and its request ID. */
export async function submitInFlow(
  shipped: ShippedStack | undefined,
  correlationId: string,
  body: unknown,
): Promise<{ task: Task; requestId: string }> {
  const response = await fetch(`${shipped?.nginx.url}/api/v1/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'X-Correlation-ID': correlationId },
    body: JSON.stringify(body),
  });
  if (response.status !== 202) {
    throw new Error(`submit: ${response.status} ${await response.text()}`);
  }
  return {
    task: (await response.json()) as Task,
    requestId: response.headers.get('x-request-id') ?? '',
  };
}
