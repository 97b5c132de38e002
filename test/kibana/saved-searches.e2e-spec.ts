// The saved searches, run as Kibana would run them: each one's Lucene query, with one seeded
// flow's ID in place of its wildcard, through Elasticsearch's query_string. Each must return
// exactly that flow's lines from nginx, the API and the worker, and nothing of the others.
// The flows go through the real nginx, API and worker (a retry, a failure, a slow task and a
// batch with child tasks); rsyslog ships nginx's lines, the app its own.
import { Client } from '@elastic/elasticsearch';
import { randomUUID } from 'node:crypto';
import { type SavedObject, queryFor, readSavedObjects } from '../support/kibana';
import { type LogDoc, allDocs, lineKey } from '../support/log-search';
import type { Nginx } from '../support/nginx';
import { type ShippedStack, startShippedStack } from '../support/shipped-stack';
import { ELASTICSEARCH_URL, eventually } from '../support/services';
import { TEST_DATA_STREAM, TestStack, type Task } from '../support/stack';

interface Flow {
  name: string;
  correlationId: string;
  requestId: string;
  task: Task;
}

const portfolio = {
  method: 'parametric',
  positions: [{ asset: 'A', value: 100 }],
  covariance: [[0.0001]],
};
const SEEDS: { name: string; body: unknown }[] = [
  {
    name: 'retried',
    body: { type: 'echo', data: { message: 'twice', fail: { kind: 'retryable', attempts: 1 } } },
  },
  { name: 'failed', body: { type: 'echo', data: { fail: { kind: 'fatal' } } } },
  { name: 'slow', body: { type: 'echo', data: { delay_ms: 1200 } } },
  { name: 'batch', body: { type: 'batch_var', data: { portfolios: [portfolio, portfolio] } } },
];

/** What each saved search means, in JavaScript, for the lines of one ID. */
const MEANING: Record<string, (line: LogDoc) => boolean> = {
  'threadline-flow-by-correlation-id': () => true,
  'threadline-task-lifecycle-by-task-id': () => true,
  'threadline-request-by-request-id': () => true,
  'threadline-errors-with-ids': (line) =>
    line['log.level'] === 'error' || line['log.level'] === 'fatal',
  'threadline-slow-tasks': (line) =>
    line['event.action'] === 'task-completed' && Number(line['task.run_ms']) >= 1000,
};

describe('saved searches on seeded flows', () => {
  const stack = new TestStack({
    LOG_LEVEL: 'info',
    TASK_FAULT_INJECTION: 'true',
    TASK_BACKOFF_MS: '200',
  });
  const client = new Client({ node: ELASTICSEARCH_URL });
  const searches = readSavedObjects().filter((o) => o.type === 'search');
  let shipped: ShippedStack | undefined;
  let nginx: Nginx;
  const flows: Flow[] = [];

  /** Every line written by the stack's processes and by nginx. */
  const written = (): LogDoc[] => shipped?.written() ?? [];

  beforeAll(async () => {
    shipped = await startShippedStack(stack);
    nginx = shipped.nginx;

    for (const seed of SEEDS) {
      const correlationId = `kibana-${seed.name}-${randomUUID()}`;
      const response = await fetch(`${nginx.url}/api/v1/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'X-Correlation-ID': correlationId },
        body: JSON.stringify(seed.body),
      });
      if (response.status !== 202)
        throw new Error(`${seed.name}: ${response.status} ${await response.text()}`);
      const task = (await response.json()) as Task;
      flows.push({
        name: seed.name,
        correlationId,
        requestId: response.headers.get('x-request-id') ?? '',
        task,
      });
    }
    for (const flow of flows) {
      await eventually(async () => {
        const polled = (await (
          await fetch(`${nginx.url}/api/v1/tasks/${flow.task.task_id}`)
        ).json()) as Task;
        return ['completed', 'failed'].includes(polled.status) ? polled : undefined;
      }, `${flow.name} to finish`);
    }
    // Everything written so far is in Elasticsearch (new lines may still come: none of ours).
    await shipped.untilSearchable(flows.map((f) => f.correlationId));
  });
  afterAll(async () => {
    await (shipped?.stop() ?? stack.stop());
    await client.close();
  });

  /** The ID a search is keyed by, for one flow. */
  const idFor = (search: SavedObject, flow: Flow): [field: string, value: string] => {
    const query = queryFor(search, '\u0000');
    if (query.includes('correlation_id:"\u0000"')) return ['correlation_id', flow.correlationId];
    if (query.includes('task_id:"\u0000"')) return ['task_id', flow.task.task_id];
    return ['request_id', flow.requestId];
  };

  it('seeded flows that cross nginx, the API and the worker', () => {
    const services = new Set(
      written()
        .filter((l) => l.correlation_id === flows[0]?.correlationId)
        .map((l) => l['service.name']),
    );
    expect(services).toEqual(new Set(['nginx', 'threadline-api', 'threadline-worker']));
    expect(flows.map((f) => f.requestId).every((id) => id.length > 0)).toBe(true);
  });

  it.each(searches.map((s) => [String(s.attributes.title), s] as const))(
    '"%s", given one flow\'s ID, returns exactly that flow\'s lines',
    async (_title, search) => {
      const meaning = MEANING[search.id];
      expect(meaning).toBeDefined();
      let matchedSomewhere = false;
      for (const flow of flows) {
        const [field, value] = idFor(search, flow);
        const expected = written()
          .filter((line) => line[field] === value && meaning?.(line))
          .map(lineKey)
          .sort();
        const found = await allDocs(client, TEST_DATA_STREAM, {
          query_string: { query: queryFor(search, value) },
        });
        expect([flow.name, found.map(lineKey).sort()]).toEqual([flow.name, expected]);
        if (expected.length > 0) matchedSomewhere = true;
      }
      // Each search finds something in at least one seeded flow: no test passes on empties.
      expect(matchedSomewhere).toBe(true);
    },
  );
});
