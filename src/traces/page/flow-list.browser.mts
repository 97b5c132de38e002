/// <reference lib="dom" />
/**
 * `/trace` without an ID: the recent flows (GET /api/v1/flows), with filters, a histogram of
 * flows over time whose bars narrow the window, and a "more" button for the next page. The
 * filters live in the page's address, so that a reload, a shared link or Back shows the same.
 * @see docs/trace.md#the-flow-list
 */
import type { FlowList, FlowSummary } from '../flows/flow-search';
import type { FlowHistogramBar } from '../flows/flow-query';
import { formatDuration } from '../trace-format.mjs';
import { getJson } from './api-client.browser.mjs';
import { filterForm, filtersFromForm, filtersOf } from './flow-filters.browser.mjs';
import { clock, el, timeElement } from './page-dom.browser.mjs';

/** Flows a page of the list shows, unless the address says `?limit=` (the API checks it). */
const PAGE_SIZE = 50;

/** What a flow's status reads as, beside its colour: never colour alone. */
const STATUS_TEXT: Record<FlowSummary['status'], string> = {
  failed: 'failed',
  running: 'running',
  completed: 'completed',
  none: 'no tasks',
};

function statusBadge(flow: FlowSummary): HTMLElement {
  return el(
    'span',
    { class: 'badges' },
    el('span', {
      class: `badge status-${flow.status}`,
      'data-status': flow.status,
      text: STATUS_TEXT[flow.status],
    }),
    flow.slow && el('span', { class: 'badge slow', text: 'slow' }),
  );
}

function tasksText(flow: FlowSummary): string {
  const { total, running, completed, failed } = flow.tasks;
  if (total === 0) return 'none';
  const parts = [
    completed && `${completed} completed`,
    running && `${running} running`,
    failed && `${failed} failed`,
  ].filter(Boolean);
  const retries = flow.retries
    ? ` · ${flow.retries} ${flow.retries > 1 ? 'retries' : 'retry'}`
    : '';
  return `${total}: ${parts.join(', ')}${retries}`;
}

/** One flow as a table row; the whole row leads to its waterfall, its ID is the link. */
function flowRow(flow: FlowSummary): HTMLElement {
  const link = el('a', { href: flow.links.page, class: 'flow-id', text: flow.correlation_id });
  const error = flow.first_error;
  const row = el(
    'tr',
    { class: `flow status-${flow.status}`, 'data-flow': flow.correlation_id },
    el('td', { 'data-label': 'Status' }, statusBadge(flow)),
    el('td', { 'data-label': 'Flow', class: 'id-cell' }, link),
    el('td', { 'data-label': 'Started' }, timeElement(flow.first_at)),
    el('td', { 'data-label': 'Duration', class: 'num', text: formatDuration(flow.duration_ms) }),
    el('td', { 'data-label': 'Services', text: flow.services.join(', ') || '–' }),
    el('td', { 'data-label': 'Tasks', text: tasksText(flow) }),
    el(
      'td',
      { 'data-label': 'First error', class: 'error-cell' },
      error ? `${error.type ? error.type + ': ' : ''}${error.message}` : '–',
    ),
  );
  row.addEventListener('click', (event) => {
    // The link itself (or a selection of text) does its own thing.
    if (event.target instanceof HTMLAnchorElement || getSelection()?.toString()) return;
    location.href = flow.links.page;
  });
  return row;
}

/** A bar per interval of the window, its height the flows, its red part the failed; a click narrows to it. */
function histogram(bars: FlowHistogramBar[], narrow: (bar: FlowHistogramBar) => void): HTMLElement {
  const most = Math.max(1, ...bars.map((b) => b.flows));
  const chart = el('div', {
    class: 'histogram',
    role: 'group',
    'aria-label': 'Flows over time. Choose a bar to show only its time.',
  });
  for (const bar of bars) {
    const label = `${clock(bar.at)} to ${clock(bar.until)}: ${bar.flows} flow${bar.flows === 1 ? '' : 's'}, ${bar.failed} failed`;
    const button = el(
      'button',
      { type: 'button', class: 'hbar', 'aria-label': label, title: label, 'data-at': bar.at },
      el(
        'span',
        { class: 'hbar-total', style: `height:${(bar.flows / most) * 100}%` },
        bar.failed > 0 &&
          el('span', {
            class: 'hbar-failed',
            style: `height:${(bar.failed / Math.max(1, bar.flows)) * 100}%`,
          }),
      ),
    ) as HTMLButtonElement;
    if (bar.flows === 0) button.disabled = true;
    button.addEventListener('click', () => narrow(bar));
    chart.append(button);
  }
  const first = bars[0];
  const last = bars.at(-1);
  return el(
    'figure',
    { class: 'histogram-box' },
    chart,
    first &&
      last &&
      el(
        'figcaption',
        { class: 'histogram-axis' },
        el('span', { text: clock(first.at) }),
        el(
          'span',
          { class: 'legend' },
          el('span', { class: 'swatch failed', 'aria-hidden': 'true' }),
          ' failed',
        ),
        el('span', { text: clock(last.until) }),
      ),
  );
}

function message(text: string, kind: 'status' | 'alert'): HTMLElement {
  return el('p', { class: 'message' + (kind === 'alert' ? ' error' : ''), role: kind, text });
}

/** What the list shows when the API refused or did not answer. */
function failure(status: number, detail: string): string {
  if (status === 400) return `These filters cannot be used: ${detail} Change them above.`;
  return `Cannot list flows: ${detail}`;
}

/**
 * Draws the flow list into `main` for the filters in the page's address, and again whenever
 * they change (the form, a histogram bar, Back and Forward).
 */
export function showFlowList(main: HTMLElement): void {
  const load = async (): Promise<void> => {
    const filters = filtersOf(location.search);
    const form = filterForm(filters);
    const heading = el('h2', { text: 'Recent flows' });
    const results = el('div', { class: 'results', 'aria-live': 'polite', 'aria-busy': 'true' });
    main.replaceChildren(
      el('section', { class: 'flows', 'aria-labelledby': 'flows-title' }, heading, form, results),
    );
    heading.id = 'flows-title';

    const go = (next: URLSearchParams): void => {
      history.pushState(null, '', next.size ? `/trace?${next.toString()}` : '/trace');
      void load();
    };
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      go(filtersFromForm(form, filters));
    });
    // A choice in a list applies at once; text fields apply with Enter or the button.
    form
      .querySelectorAll('select')
      .forEach((field) =>
        field.addEventListener('change', () => go(filtersFromForm(form, filters))),
      );

    const query = new URLSearchParams(filters);
    if (!query.has('limit')) query.set('limit', String(PAGE_SIZE));
    const answer = await getJson<FlowList>(`/api/v1/flows?${query.toString()}&histogram=true`);
    results.setAttribute('aria-busy', 'false');
    if (!answer.ok) {
      results.replaceChildren(message(failure(answer.status, answer.detail), 'alert'));
      return;
    }
    const list = answer.body;
    const narrow = (bar: FlowHistogramBar): void => {
      const next = new URLSearchParams(filters);
      next.set('since', bar.at);
      next.set('until', bar.until);
      go(next);
    };
    const parts: HTMLElement[] = [];
    if (list.histogram?.length) parts.push(histogram(list.histogram, narrow));
    if (list.truncated) {
      parts.push(
        message(
          'This window holds more flows than a list reads: only its most recent are listed. Narrow the time (a bar above) to reach older ones.',
          'status',
        ),
      );
    }
    if (list.flows.length === 0) {
      parts.push(
        message(
          'No flow in this time range matches these filters. Widen the time range, or set a filter back to "any".',
          'status',
        ),
      );
      results.replaceChildren(...parts);
      return;
    }
    const body = el('tbody', {}, ...list.flows.map(flowRow));
    const table = el(
      'table',
      { class: 'flow-table' },
      el('caption', { class: 'visually-hidden', text: 'Flows, the most recent first' }),
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ...['Status', 'Flow', 'Started', 'Duration', 'Services', 'Tasks', 'First error'].map(
            (h) => el('th', { scope: 'col', text: h }),
          ),
        ),
      ),
      body,
    );
    parts.push(table);
    const count = el('p', { class: 'count', role: 'status' });
    const more = el('button', {
      type: 'button',
      class: 'more',
      text: 'More flows',
    }) as HTMLButtonElement;
    let cursor = list.next_cursor;
    let shown = list.flows.length;
    const update = (): void => {
      count.textContent = `${shown} flow${shown === 1 ? '' : 's'} shown${cursor ? ', more match' : ''}.`;
      more.hidden = cursor === null;
    };
    more.addEventListener('click', () => {
      if (!cursor) return;
      more.disabled = true;
      const page = new URLSearchParams(query);
      page.set('cursor', cursor);
      void getJson<FlowList>(`/api/v1/flows?${page.toString()}`).then((next) => {
        more.disabled = false;
        if (!next.ok) {
          count.textContent = failure(next.status, next.detail);
          return;
        }
        body.append(...next.body.flows.map(flowRow));
        cursor = next.body.next_cursor;
        shown += next.body.flows.length;
        update();
      });
    });
    update();
    parts.push(el('div', { class: 'list-foot' }, count, more));
    results.replaceChildren(...parts);
  };
  window.addEventListener('popstate', () => void load());
  void load();
}
