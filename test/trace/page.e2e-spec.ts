// The trace page in a real headless Chromium: a seeded flow (a retried task and a batch with
// two children, through nginx, the API and the worker) drawn as a waterfall; a live task
// followed to its end without a reload; clear messages for an unknown ID and for an
// Elasticsearch that does not answer; and the headers the page and its script are served with.
import { Client } from '@elastic/elasticsearch';
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser';
import { countDocs } from '../support/log-search';
import {
  FAULTY_ENV,
  PORTFOLIO,
  type ShippedStack,
  startShippedStack,
  submitInFlow,
} from '../support/shipped-stack';
import { ELASTICSEARCH_URL, eventually, freePort, repoRoot } from '../support/services';
import { TEST_DATA_STREAM, TestStack, type Task } from '../support/stack';

const ARTIFACTS = join(repoRoot, 'test-artifacts');
describe('trace page', () => {
  const stack = new TestStack(FAULTY_ENV);
  const client = new Client({ node: ELASTICSEARCH_URL });
  let shipped: ShippedStack | undefined;
  let browser: Browser;
  let page: Page;
  const flow = `page-${randomUUID()}`;
  let retried: Task;
  let batch: Task;

  const submit = async (body: unknown): Promise<Task> =>
    (await submitInFlow(shipped, flow, body)).task;
  const searchable = (query: Record<string, unknown>, atLeast: number): Promise<true> =>
    eventually(
      async () =>
        (await countDocs(client, TEST_DATA_STREAM, query)) >= atLeast ? true : undefined,
      'the lines to be searchable',
    );

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    shipped = await startShippedStack(stack);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    retried = await submit({ type: 'echo', data: { fail: { kind: 'retryable', attempts: 1 } } });
    batch = await submit({ type: 'batch_var', data: { portfolios: [PORTFOLIO, PORTFOLIO] } });
    for (const task of [retried, batch]) await stack.until(task.task_id, ['completed']);
    await shipped.untilSearchable([flow]);
  });
  afterAll(async () => {
    await browser?.close();
    await (shipped?.stop() ?? stack.stop());
    await client.close();
  });

  it('draws the flow as a waterfall, and each ID leads to its own view', async () => {
    await page.goto(`${stack.baseUrl}/trace/${flow}`);
    await page.waitForSelector('[data-status="completed"]');
    const widths = async (kind: string): Promise<number[]> => {
      const bars = await page.locator(`[data-bar="${kind}"]`).all();
      return Promise.all(bars.map(async (bar) => (await bar.boundingBox())?.width ?? 0));
    };
    expect((await widths('nginx')).length).toBeGreaterThanOrEqual(2);
    expect((await widths('api')).length).toBeGreaterThanOrEqual(2);
    // The echo task, the batch and its two children each waited in the queue, then ran:
    // the echo twice (retried, then completed).
    expect(await widths('queue')).toHaveLength(4);
    expect(await widths('attempt')).toHaveLength(5);
    for (const kind of ['nginx', 'api', 'queue', 'attempt']) {
      for (const width of await widths(kind))
        expect([kind, width >= 1 && width <= 1100]).toEqual([kind, true]);
    }
    expect(await page.locator('.bar.retried').count()).toBe(1);
    // The children are drawn under their parent, indented.
    const labels = await page.locator('.row .label').all();
    const indents = await Promise.all(labels.map((label) => label.getAttribute('style')));
    expect(indents.filter((i) => i?.includes('padding-left: 18px')).length).toBeGreaterThanOrEqual(
      4,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'trace-page.png'), fullPage: true });

    await page.click(`a[data-id="${retried.task_id}"]`);
    await page.waitForURL(`**/trace/${retried.task_id}`);
    await page.waitForSelector('[data-status]');
    expect(await page.inputValue('#id')).toBe(retried.task_id);
  });

  it('serves the page, and its script as modules from the same API, under its CSP', async () => {
    const html = await fetch(`${stack.baseUrl}/trace/${flow}`);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = html.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    const script = /<script type="module" src="([^"]+)">/.exec(await html.text())?.[1];
    expect(script).toMatch(/^\/trace\/assets\/.+\.mjs$/);
    const served = await fetch(`${stack.baseUrl}${script}`);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const unknown = await fetch(`${stack.baseUrl}/trace/assets/main.js`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');
  });

  it('says above the waterfall when the flow was cut', async () => {
    // The page passes its own ?limit= to the API.
    await page.goto(`${stack.baseUrl}/trace/${flow}?limit=5`);
    const notice = page.locator('[data-truncated]');
    await notice.waitFor();
    expect(await notice.isVisible()).toBe(true);
    expect(await notice.getAttribute('role')).toBe('status');
    expect(await notice.textContent()).toContain(
      'Only the first 5 lines of this flow are shown: it has more.',
    );
    await page.screenshot({ path: join(ARTIFACTS, 'trace-page-cut.png'), fullPage: true });
    // A flow shown whole has no notice.
    await page.goto(`${stack.baseUrl}/trace/${flow}`);
    await page.waitForSelector('[data-status="completed"]');
    expect(await page.locator('[data-truncated]').count()).toBe(0);
  });

  it('follows a running task to its end without a reload', async () => {
    const slow = await submit({ type: 'echo', data: { delay_ms: 4000 } });
    await stack.until(slow.task_id, ['active']);
    await searchable(
      {
        bool: {
          filter: [
            { term: { task_id: slow.task_id } },
            { term: { 'event.action': 'task-started' } },
          ],
        },
      },
      1,
    );
    await page.goto(`${stack.baseUrl}/trace/${slow.task_id}`);
    await page.waitForSelector('[data-status="running"]');
    expect(await page.locator('.bar.running').count()).toBe(1);
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    await page.waitForSelector('[data-status="completed"]', { timeout: 30_000 });
    expect(navigations).toEqual([]);
  });

  it('says "nothing found" for an unknown ID, and names the problem when Elasticsearch is away', async () => {
    const unknown = `no-such-${randomUUID()}`;
    await page.goto(`${stack.baseUrl}/trace/${unknown}`);
    await page.waitForSelector('.message');
    expect(await page.textContent('.message')).toContain(`Nothing found for ${unknown}`);

    const offline = new TestStack({
      ELASTICSEARCH_URL: `http://127.0.0.1:${await freePort()}`,
      LOG_SHIPPING: 'false',
    });
    try {
      await offline.startApi();
      await page.goto(`${offline.baseUrl}/trace/${flow}`);
      await page.waitForSelector('.message.error');
      expect(await page.textContent('.message.error')).toMatch(
        /Cannot show this trace: Elasticsearch at http:\/\/127\.0\.0\.1:\d+ did not answer/,
      );
    } finally {
      await offline.stop();
    }
  });
});
