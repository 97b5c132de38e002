// The trace page's flow list and waterfall in a real headless Chromium, over flows of known
// shape: lines written straight into a data stream of its own, at a time of their own (so that
// no other run's lines fall in the window), read through the real API with API keys on (the
// page asks for the key once, and keeps it for the tab). The list shows exactly those flows and
// keeps its filters in the address; a row leads to its waterfall, whose bars the keyboard walks
// and whose detail panel shows every field. axe-core finds no serious or critical violation on
// either view, and both are saved as screenshots on a desktop and a phone.
import { Client } from '@elastic/elasticsearch';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/browser';
import { ELASTICSEARCH_URL, repoRoot } from '../support/services';
import { seedStream } from '../support/log-search';
import { TestStack } from '../support/stack';

const ARTIFACTS = join(repoRoot, 'test-artifacts');
const STREAM = 'logs-threadline-flowpage';
const KEY = `alice-${randomUUID().replaceAll('-', '')}`;
/** A minute of its own in the past: base time of every line of this run. */
const T = Date.UTC(2021, 0, 1) + Math.floor(Math.random() * 1e11);
const run = `fp-${randomUUID().slice(0, 8)}`;
const WINDOW = `since=${new Date(T - 600_000).toISOString()}&until=${new Date(T + 600_000).toISOString()}`;
const AXE = readFileSync(join(repoRoot, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

type Line = Record<string, unknown>;
const id = (name: string): string => `${run}-${name}`;
/** The task of flow `name`: a client's own kind of ID, longer than the 8 characters once shown. */
const taskId = (name: string): string => `ceo-check-1-${run}-${name}`;

function line(name: string, ms: number, fields: Line = {}): Line {
  return {
    '@timestamp': new Date(T + ms).toISOString(),
    correlation_id: id(name),
    request_id: `${id(name)}-r`,
    'trace.id': randomUUID().replaceAll('-', ''),
    'service.name': 'threadline-api',
    'log.level': 'info',
    'user.name': 'alice',
    message: `${name} at +${ms} ms`,
    ...fields,
  };
}
const api = (name: string, ms: number, status = 202): Line =>
  line(name, ms, {
    'event.action': 'http-request',
    'http.request.method': 'POST',
    'url.path': '/api/v1/tasks',
    'http.response.status_code': status,
    'event.duration': 8_000_000,
  });
const queued = (name: string, ms: number): Line =>
  line(name, ms - 4, {
    'event.action': 'task-queued',
    task_id: taskId(name),
    'task.type': 'echo',
    'task.queue': 'medium',
  });
const worker = (name: string, ms: number, action: string, fields: Line = {}): Line =>
  line(name, ms, {
    'service.name': 'threadline-worker',
    'event.action': action,
    task_id: taskId(name),
    'task.type': 'echo',
    'task.queue': 'medium',
    ...fields,
  });

/** The flows, by name, the last to end last. */
const FLOWS: Record<string, Line[]> = {
  retried: [
    queued('retried', 0),
    api('retried', 0),
    worker('retried', 40, 'task-started', { 'task.attempt': 1 }),
    worker('retried', 300, 'task-retried', {
      'log.level': 'warn',
      'error.message': 'the quote service timed out',
      'error.type': 'TimeoutError',
    }),
    worker('retried', 1_300, 'task-started', { 'task.attempt': 2 }),
    worker('retried', 1_900, 'task-completed'),
  ],
  failed: [
    queued('failed', 20_000),
    api('failed', 20_000),
    worker('failed', 20_050, 'task-started', { 'task.attempt': 1 }),
    worker('failed', 20_400, 'task-failed', {
      'log.level': 'error',
      'error.message': 'boom',
      'error.type': 'Error',
    }),
  ],
  running: [
    queued('running', 40_000),
    api('running', 40_000),
    worker('running', 40_100, 'task-started', { 'task.attempt': 1 }),
  ],
  refused: [api('refused', 60_000, 400)],
};
const ALL = ['refused', 'running', 'failed', 'retried'];

describe('trace page: the flow list and the waterfall', () => {
  const client = new Client({ node: ELASTICSEARCH_URL });
  const stack = new TestStack({
    LOG_DATA_STREAM: STREAM,
    LOG_SHIPPING: 'false',
    API_KEYS: `alice:${KEY}`,
  });
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const refusedByCsp: string[] = [];

  const listed = async (): Promise<string[]> => {
    await page.waitForSelector('.results[aria-busy="false"]');
    const rows = await page.locator('tr.flow').all();
    return Promise.all(
      rows.map(async (row) => ((await row.getAttribute('data-flow')) ?? '').slice(run.length + 1)),
    );
  };
  /** axe-core's serious and critical findings on the page as it is, by rule and target. */
  const accessibility = async (): Promise<string[]> => {
    if (!(await page.evaluate<boolean>("'axe' in window"))) await page.evaluate(AXE);
    const violations = await page.evaluate<AxeResults['violations']>(
      'window.axe.run().then((results) => results.violations)',
    );
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await seedStream(client, STREAM, Object.values(FLOWS).flat());
    await stack.startApi();
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: stack.baseUrl,
    });
    page = await context.newPage();
    // With API keys on, the page asks for one on its first 401.
    page.on('dialog', (dialog) => void dialog.accept(KEY));
    page.on('console', (entry) => {
      if (entry.text().includes('Content Security Policy')) refusedByCsp.push(entry.text());
    });
  });
  afterAll(async () => {
    await browser?.close();
    await stack.stop();
    await client.close();
  });
  afterEach(() => expect(refusedByCsp).toEqual([]));

  it('lists exactly the flows of the window, the last to end first, each with its status in words', async () => {
    await page.goto(`${stack.baseUrl}/trace?${WINDOW}`);
    expect(await listed()).toEqual(ALL);
    const badge = (name: string) => page.locator(`tr[data-flow="${id(name)}"] .badge[data-status]`);
    expect(await badge('failed').textContent()).toBe('failed');
    expect(await badge('running').textContent()).toBe('running');
    expect(await badge('retried').textContent()).toBe('completed');
    expect(await badge('refused').textContent()).toBe('no tasks');
    // IDs whole, links to their waterfall, and the first error.
    const link = page.locator(`tr[data-flow="${id('failed')}"] a.flow-id`);
    expect(await link.textContent()).toBe(id('failed'));
    expect(await link.getAttribute('href')).toBe(`/trace/${id('failed')}`);
    expect(await page.locator(`tr[data-flow="${id('failed')}"] .error-cell`).textContent()).toBe(
      'Error: boom',
    );
    expect(await page.locator('.hbar:enabled').count()).toBeGreaterThan(0);
    expect(await accessibility()).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'flow-list.png'), fullPage: true });
  });

  it('filters by status, keeps the filters in the address through a reload and Back', async () => {
    await page.selectOption('#filter-status', 'failed');
    await page.waitForURL(/status=failed/);
    expect(await listed()).toEqual(['failed']);
    await page.reload();
    expect(await listed()).toEqual(['failed']);
    expect(await page.inputValue('#filter-status')).toBe('failed');
    await page.goBack();
    expect(await listed()).toEqual(ALL);

    await page.selectOption('#filter-status', 'retried');
    expect(await listed()).toEqual(['retried']);
    await page.fill('#filter-task_type', 'no-such-type');
    await page.press('#filter-task_type', 'Enter');
    await page.waitForURL(/task_type=no-such-type/);
    expect(await listed()).toEqual([]);
    expect(await page.textContent('.results .message')).toContain('No flow in this time range');
  });

  it('narrows the time to a bar of the histogram, pages with "More flows", names a bad filter', async () => {
    await page.goto(`${stack.baseUrl}/trace?${WINDOW}`);
    await listed();
    const bar = page.locator('.hbar:enabled').first();
    const at = (await bar.getAttribute('data-at')) ?? '';
    await bar.click();
    await page.waitForURL((url) => url.searchParams.get('since') === at);
    const narrowed = await listed();
    expect(narrowed.length).toBeGreaterThan(0);
    expect(ALL).toEqual(expect.arrayContaining(narrowed));

    await page.goto(`${stack.baseUrl}/trace?${WINDOW}&limit=3`);
    expect(await listed()).toEqual(ALL.slice(0, 3));
    await page.click('button.more');
    await page.waitForSelector('button.more', { state: 'hidden' });
    expect(await listed()).toEqual(ALL);

    await page.goto(`${stack.baseUrl}/trace?${WINDOW}&status=broken`);
    await page.waitForSelector('.results .message.error');
    expect(await page.textContent('.results .message.error')).toMatch(
      /^These filters cannot be used: .*status/,
    );
  });

  it('leads from a row to its waterfall: axis, critical path, keyboard, details', async () => {
    await page.goto(`${stack.baseUrl}/trace?${WINDOW}`);
    await listed();
    await page.click(`tr[data-flow="${id('retried')}"] td[data-label="Duration"]`);
    await page.waitForURL(`**/trace/${id('retried')}`);
    await page.waitForSelector('[data-status="completed"]');
    expect(await page.locator('.tick').count()).toBeGreaterThanOrEqual(3);
    // The request, the queue wait and both attempts; the flow's end waited on all of them.
    expect(await page.locator('.bar').count()).toBe(4);
    expect(await page.locator('.bar.critical').count()).toBe(4);
    // The task's ID whole, not its first 8 characters.
    expect(
      await page
        .locator(`.label a[data-id="${taskId('retried')}"]`)
        .first()
        .textContent(),
    ).toBe(taskId('retried'));

    // The first bar is selected; the arrow keys move the selection, and the focus, along.
    const title = page.locator('#detail-title');
    expect(await title.textContent()).toBe('API POST /api/v1/tasks 202');
    await page.locator('.bar').first().focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await title.textContent()).toBe('echo attempt 1 · retried');
    expect(
      await page.evaluate<string | null>("document.activeElement?.getAttribute('aria-pressed')"),
    ).toBe('true');
    await page.keyboard.press('End');
    expect(await title.textContent()).toBe('echo attempt 2 · completed');
    await page.keyboard.press('ArrowUp');
    expect(await title.textContent()).toBe('echo attempt 1 · retried');
    // Its lines with every field, and its IDs whole with copy buttons.
    const detail = page.locator('#detail');
    expect(await detail.locator('dd', { hasText: 'the quote service timed out' }).count()).toBe(1);
    expect(await detail.locator('dt', { hasText: 'error.type' }).count()).toBe(1);
    expect(await detail.locator('.full-id', { hasText: taskId('retried') }).count()).toBe(1);
    const copy = detail.getByRole('button', { name: `Copy task_id ${taskId('retried')}` });
    await copy.click();
    await detail.locator('.copied', { hasText: 'Copied' }).waitFor();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(taskId('retried'));

    expect(await accessibility()).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'flow-waterfall.png'), fullPage: true });
  });

  it('reads on a phone', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${stack.baseUrl}/trace?${WINDOW}`);
    expect(await listed()).toEqual(ALL);
    expect(await accessibility()).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'flow-list-phone.png'), fullPage: true });
    const scrolls = await page.evaluate<number>('document.documentElement.scrollWidth');
    expect(scrolls).toBeLessThanOrEqual(390);

    await page.goto(`${stack.baseUrl}/trace/${id('failed')}`);
    await page.waitForSelector('[data-status="failed"]');
    expect(await accessibility()).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'flow-waterfall-phone.png'), fullPage: true });
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
      390,
    );
  });
});

/** What the test reads of axe-core's results. */
interface AxeResults {
  violations: { id: string; impact?: string | null; nodes: { target: string[] }[] }[];
}
