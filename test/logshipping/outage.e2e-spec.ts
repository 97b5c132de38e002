// Elasticsearch goes away: every log line waits in the spool, survives a killed process, and
// arrives exactly once when Elasticsearch returns. A private node, so that stopping it
// disturbs no other test.
import { Client } from '@elastic/elasticsearch';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LogDoc, allDocs, countDocs, lineKey, spooledLines } from '../support/log-search';
import { eventually, freePort, repoRoot, services } from '../support/services';
import { TestStack } from '../support/stack';

const STREAM = 'logs-threadline-outage';
const OUTAGE_MS = 60_000;
const LINES = 10_000;

const sortedKeys = (docs: LogDoc[]): string[] => docs.map(lineKey).sort();

describe('log shipping through an Elasticsearch outage', () => {
  let url: string;
  let port: number;
  let client: Client;
  const stacks: TestStack[] = [];

  const newStack = (env: Record<string, string> = {}): TestStack => {
    const stack = new TestStack({
      ELASTICSEARCH_URL: url,
      LOG_DATA_STREAM: STREAM,
      LOG_LEVEL: 'info',
      ...env,
    });
    stacks.push(stack);
    return stack;
  };
  const templateInstalled = (stack: TestStack): Promise<true> =>
    eventually(
      () => Promise.resolve(stack.allOutput().includes('es-template-installed') || undefined),
      'the API to install the index template',
    );

  beforeAll(async () => {
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    services('up', 'elasticsearch', url);
    client = new Client({ node: url });
  });
  afterAll(async () => {
    await Promise.all(stacks.map((stack) => stack.stop()));
    await client.close();
    services('down', 'elasticsearch', url);
    rmSync(join(repoRoot, '.services', `elasticsearch-${port}`), { recursive: true, force: true });
  });

  it(`keeps ${LINES} lines written during a ${OUTAGE_MS / 1000} s outage, and stores each exactly once after`, async () => {
    const stack = newStack();
    await stack.startApi();
    await stack.startWorker();
    await templateInstalled(stack);

    services('down', 'elasticsearch', url);
    const downAt = Date.now();
    // The API and the worker both write: each echo task is a request line and a queued line
    // from the API, and lines of its run from the worker.
    let submitted = 0;
    while (stack.logLines().length < LINES) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => stack.submit('echo', { message: i })));
      submitted += 50;
    }
    const completed = (): number =>
      stack.logLines().filter((line) => line['event.action'] === 'task-completed').length;
    await eventually(
      () => Promise.resolve(completed() >= submitted || undefined),
      'the worker to run every task',
    );
    const writers = new Set(stack.logLines().map((line) => line['service.name']));
    expect(writers).toEqual(new Set(['threadline-api', 'threadline-worker']));
    await sleep(Math.max(0, downAt + OUTAGE_MS - Date.now()));
    services('up', 'elasticsearch', url);

    // Every line written to stdout, from start-up through the outage, arrives; none twice.
    // (The shipper keeps writing lines of its own, "recovered" among them: compare until the
    // two sides agree, and show the last difference if they never do.)
    let last = { written: [] as string[], stored: [] as string[] };
    const settled = async (): Promise<true | undefined> => {
      if ((await countDocs(client, STREAM)) < stack.logLines().length) return undefined;
      const stored = sortedKeys(await allDocs(client, STREAM));
      last = { written: sortedKeys(stack.logLines()), stored };
      return JSON.stringify(last.stored) === JSON.stringify(last.written) ? true : undefined;
    };
    await eventually(settled, 'the spooled lines to arrive', 120_000).catch(() => undefined);
    expect(last.written.length).toBeGreaterThanOrEqual(LINES);
    expect(last.stored).toEqual(last.written);
  });

  it('delivers the lines of an API killed while Elasticsearch was down, once a new one starts', async () => {
    services('up', 'elasticsearch', url); // Whatever the test before left.
    const stack = newStack();
    await stack.startApi();
    await stack.startWorker();
    await templateInstalled(stack);

    services('down', 'elasticsearch', url);
    const flow = `killed-${randomUUID()}`;
    const headers = { 'X-Correlation-ID': flow };
    for (let i = 0; i < 20; i++) await stack.request('GET', '/api/v1/queues', undefined, headers);
    const task = await stack.submit('echo', { message: 'before the kill' }, {});
    await stack.until(task.task_id, ['completed']);
    const ofFlow = (docs: LogDoc[]): LogDoc[] =>
      docs.filter((d) => d.correlation_id === flow || d.task_id === task.task_id);
    // The lines reach the spool on disk right after stdout; the kill comes after that.
    await eventually(
      () =>
        Promise.resolve(
          spooledLines(stack.spoolDir).filter((d) => d.correlation_id === flow).length === 20 ||
            undefined,
        ),
      'the lines to be spooled',
    );
    const killed = stack.api;
    killed?.kill('SIGKILL');
    await killed?.exited;
    await stack.stopWorkers(); // SIGTERM: what it could not deliver stays in the spool too.
    const written = ofFlow(stack.logLines());
    expect(written.filter((d) => d['service.name'] === 'threadline-worker').length).toBeGreaterThan(
      0,
    );

    services('up', 'elasticsearch', url);
    await stack.startApi();
    const query = {
      bool: { should: [{ term: { correlation_id: flow } }, { term: { task_id: task.task_id } }] },
    };
    await eventually(
      async () => ((await countDocs(client, STREAM, query)) >= written.length ? true : undefined),
      "the killed API's lines to arrive",
    );
    expect(sortedKeys(ofFlow(await allDocs(client, STREAM, query)))).toEqual(sortedKeys(written));
  });
});
