// The flow list over real flows: tasks submitted through nginx to the API and run by a worker,
// one flow each (completed, failed for good, retried then completed, slow), their lines
// shipped to Elasticsearch by the app and by rsyslog. Each filter of GET /api/v1/flows returns
// exactly the flows that match, the CLI prints the same, and the trace page lists them and
// opens each one's waterfall.
import { randomUUID } from 'node:crypto';
import type { FlowList } from '../../src/traces/flows/flow-search';
import {
  FAULTY_ENV,
  type ShippedStack,
  startShippedStack,
  submitInFlow,
} from '../support/shipped-stack';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser';
import { threadline } from '../support/cli';
import { ELASTICSEARCH_URL } from '../support/services';
import { TestStack } from '../support/stack';

const STREAM = 'logs-threadline-flowexplorer';
/** Slow, for this test: a flow of 2 s or more (an echo told to take 2.5 s is). */
const SLOW_MS = 2000;

describe('the flow list over flows through nginx, the API and a worker', () => {
  // A data stream of its own: the lists must hold this test's flows only.
  const stack = new TestStack({
    ...FAULTY_ENV,
    FLOW_SLOW_MS: String(SLOW_MS),
    LOG_DATA_STREAM: STREAM,
  });
  let shipped: ShippedStack | undefined;
  const since = new Date().toISOString();
  const run = `fx-${randomUUID().slice(0, 8)}`;
  const flows = {
    completed: `${run}-completed`,
    failed: `${run}-failed`,
    retried: `${run}-retried`,
    slow: `${run}-slow`,
  };
  const list = async (query: string): Promise<string[]> => {
    const reply = await stack.request<FlowList>(
      'GET',
      `/api/v1/flows?since=${since}&limit=100&${query}`,
    );
    expect(reply.status).toBe(200);
    return reply.body.flows.map((flow) => flow.correlation_id).sort();
  };

  beforeAll(async () => {
    shipped = await startShippedStack(stack);
    const tasks = await Promise.all([
      submitInFlow(shipped, flows.completed, { type: 'echo', data: { message: 'ok' } }),
      submitInFlow(shipped, flows.failed, { type: 'echo', data: { fail: { kind: 'fatal' } } }),
      submitInFlow(shipped, flows.retried, {
        type: 'echo',
        data: { fail: { kind: 'retryable', attempts: 1 } },
      }),
      submitInFlow(shipped, flows.slow, { type: 'echo', data: { delay_ms: SLOW_MS + 500 } }),
    ]);
    for (const { task } of tasks) await stack.until(task.task_id, ['completed', 'failed']);
    await shipped.untilSearchable(Object.values(flows));
  });
  afterAll(async () => {
    await (shipped?.stop() ?? stack.stop());
  });

  it.each([
    ['status=completed', ['completed', 'retried', 'slow']],
    ['status=failed', ['failed']],
    ['status=retried', ['retried']],
    ['status=slow', ['slow']],
    ['status=running', []],
    ['service=threadline-worker&task_type=echo', ['completed', 'failed', 'retried', 'slow']],
    ['task_type=calculate_var', []],
  ])('with %s, exactly the flows that match', async (query, expected) => {
    expect(await list(query)).toEqual(expected.map((name) => `${run}-${name}`).sort());
  });

  it('prints the same flows from the CLI, for each status', async () => {
    for (const status of ['completed', 'failed', 'retried', 'slow']) {
      const run = await threadline(
        [
          'flows',
          '--since',
          since,
          '--status',
          status,
          '--limit',
          '100',
          '--format',
          'json',
          '--es-url',
          ELASTICSEARCH_URL,
          '--data-stream',
          STREAM,
        ],
        { FLOW_SLOW_MS: String(SLOW_MS) },
      );
      expect({ status, exit: run.status, stderr: run.stderr }).toEqual({
        status,
        exit: 0,
        stderr: '',
      });
      const printed = (JSON.parse(run.stdout) as FlowList).flows.map((f) => f.correlation_id);
      expect({ status, flows: printed.sort() }).toEqual({
        status,
        flows: await list(`status=${status}`),
      });
    }
  });

  it('lists them on the page, and each row opens its waterfall', async () => {
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const query = `since=${encodeURIComponent(since)}&service=threadline-worker`;
      await page.goto(`${stack.baseUrl}/trace?${query}`);
      await page.waitForSelector('.results[aria-busy="false"]');
      const listed = await Promise.all(
        (await page.locator('tr.flow').all()).map((row) => row.getAttribute('data-flow')),
      );
      expect(listed.sort()).toEqual(Object.values(flows).sort());
      for (const [name, id] of Object.entries(flows)) {
        await page.goto(`${stack.baseUrl}/trace?${query}`);
        await page.waitForSelector('.results[aria-busy="false"]');
        await page.click(`tr[data-flow="${id}"] a.flow-id`);
        await page.waitForURL(`**/trace/${id}`);
        const status = name === 'failed' ? 'failed' : 'completed';
        await page.waitForSelector(`[data-status="${status}"]`);
        expect(await page.locator('[data-bar="nginx"]').count()).toBeGreaterThanOrEqual(1);
        expect(await page.locator('[data-bar="attempt"]').count()).toBe(name === 'retried' ? 2 : 1);
      }
    } finally {
      await browser?.close();
    }
  });

  it("with service=nginx, every flow nginx's lines are in (its own probes too)", async () => {
    const reply = await stack.request<FlowList>(
      'GET',
      `/api/v1/flows?since=${since}&limit=100&service=nginx`,
    );
    const ids = reply.body.flows.map((flow) => flow.correlation_id);
    expect(ids).toEqual(expect.arrayContaining(Object.values(flows)));
    expect(reply.body.flows.every((flow) => flow.services.includes('nginx'))).toBe(true);
    // The flows of requests sent to the API directly (the test's polls) are not nginx's.
    const all = await list('');
    expect(all.length).toBeGreaterThan(ids.length);
  });

  it('sums a flow up across nginx, the API and the worker', async () => {
    const reply = await stack.request<FlowList>(
      'GET',
      `/api/v1/flows?since=${since}&status=failed`,
    );
    const [failed] = reply.body.flows;
    expect(failed).toMatchObject({
      correlation_id: flows.failed,
      status: 'failed',
      task_types: ['echo'],
      tasks: { total: 1, running: 0, completed: 0, failed: 1 },
    });
    expect([...failed.services].sort()).toEqual(['nginx', 'threadline-api', 'threadline-worker']);
    expect(failed.first_error?.message).toMatch(/injected fatal failure/);
  });
});
