/// <reference lib="dom" />
/**
 * The trace page's script, run by the browser: reads GET /api/v1/traces/:id for the ID in the
 * page's address and draws the flow as a waterfall. `nest build` compiles it with the rest
 * (an ES module, like those it imports); the page controller serves them.
 * @see docs/trace.md#the-trace-page
 */
import type { Trace, TraceLine } from '../trace';
import { flowDiscoverLink, formatDuration, shortId } from '../trace-format.mjs';
import { bars, time } from './waterfall-rows.mjs';

type Child = Node | string | false | null | undefined;

function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`the trace page has no #${id}`);
  return found;
}

const main = element('main', HTMLElement);
const input = element('id', HTMLInputElement);
const kibana = document.body.dataset.kibanaUrl;
const id = decodeURIComponent(location.pathname.replace(/^\/trace\/?/, ''));

element('search', HTMLFormElement).addEventListener('submit', (event) => {
  event.preventDefault();
  if (input.value.trim()) location.href = '/trace/' + encodeURIComponent(input.value.trim());
});

const el = (tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'text') node.textContent = value;
    else if (key === 'style')
      node.style.cssText = value; // CSSOM: allowed by the page's CSP
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
};
const idLink = (value: string): HTMLElement =>
  el('a', { href: '/trace/' + encodeURIComponent(value), 'data-id': value, text: shortId(value) });
const message = (text: string, error: boolean): void => {
  main.replaceChildren(
    el('p', {
      class: 'message' + (error ? ' error' : ''),
      role: error ? 'alert' : 'status',
      text,
    }),
  );
};

function logLines(lines: TraceLine[]): HTMLElement {
  const hasError = lines.some((l) => l['log.level'] === 'error' || l['log.level'] === 'fatal');
  const details = el(
    'details',
    hasError ? { open: '' } : {},
    el('summary', { text: `${lines.length} log line${lines.length > 1 ? 's' : ''}` }),
  );
  const list = el('ul', { class: 'lines' });
  for (const l of lines) {
    const level = l['log.level'] ?? 'info';
    list.append(
      el(
        'li',
        {},
        l['@timestamp'] + ' ',
        el('span', { class: 'level-' + level, text: level.padEnd(5) }),
        ` ${l['service.name'] ?? ''}  ${l.message ?? ''}`,
      ),
    );
  }
  details.append(list);
  return details;
}

function render(trace: Trace): void {
  const rows = bars(trace);
  const firstLine = trace.lines[0];
  const lastLine = trace.lines.at(-1);
  const start = Math.min(...rows.map((r) => r.start), firstLine ? time(firstLine) : Infinity);
  const end = Math.max(...rows.map((r) => r.end), lastLine ? time(lastLine) : -Infinity);
  const span = Math.max(1, end - start);
  const { summary: totals } = trace;
  const summary = el(
    'p',
    { class: 'summary' },
    'Flow ',
    ...trace.correlation_ids.flatMap((c) => [idLink(c), ' ']),
    '· ',
    el('span', { class: 'status', 'data-status': totals.status, text: totals.status }),
    ` · ${formatDuration(totals.total_ms)} · ${trace.truncated ? 'first ' : ''}${totals.lines} lines · ${totals.retries} retries`,
  );
  if (kibana) {
    summary.append(
      ' · ',
      el('a', { href: flowDiscoverLink(kibana, trace), text: 'Open in Kibana' }),
    );
  }
  const list = el('ul', { class: 'rows', 'aria-label': 'Waterfall of the flow' });
  for (const row of rows) {
    const left = ((row.start - start) / span) * 100;
    const width = Math.max(0.2, ((row.end - row.start) / span) * 100);
    const duration = formatDuration(row.end - row.start);
    const classes =
      'bar ' + row.kind + (row.outcome && row.outcome !== 'completed' ? ' ' + row.outcome : '');
    const bar = el('div', {
      class: classes,
      'data-bar': row.kind,
      style: `left:${left}%;width:${width}%`,
      role: 'img',
      'aria-label': `${row.label}: ${duration}`,
    });
    const length = el('span', {
      class: 'duration',
      style: `left:${Math.min(left + width, 92)}%`,
      'aria-hidden': 'true',
      text: duration,
    });
    const label = el(
      'div',
      { class: 'label', style: `padding-left:${row.depth * 18}px` },
      row.label + ' ',
      ...row.ids.map(idLink),
    );
    const item = el('li', { class: 'row' }, label, el('div', { class: 'track' }, bar, length));
    if (row.lines.length) item.append(logLines(row.lines));
    list.append(item);
  }
  // A cut trace says so above the waterfall, and how to see the rest.
  const cut =
    trace.truncated &&
    el(
      'p',
      { class: 'message cut', role: 'status', 'data-truncated': '' },
      el('strong', {
        text: `Only the first ${totals.lines} lines of this flow are shown: it has more. `,
      }),
      `Bars and status cover those lines only. To see more, add ?limit= to the address of this page (up to TRACE_MAX_LIMIT, the most the API gives), or narrow the time with threadline trace ${id} --since/--until.`,
    );
  main.replaceChildren(...[summary, cut, list].filter((node) => node !== false));
}

// With API keys on (API_KEYS), the page asks for one on the first 401 and keeps it for the tab.
const KEY = 'threadline-api-key';
// The page's own ?limit= goes to the API, which checks it.
const asked = new URLSearchParams(location.search).get('limit');
const limit = asked === null ? '' : '?limit=' + encodeURIComponent(asked);

function authorization(): Record<string, string> {
  const key = sessionStorage.getItem(KEY);
  return key ? { authorization: 'Bearer ' + key } : {};
}

async function load(): Promise<void> {
  let response: Response;
  try {
    response = await fetch('/api/v1/traces/' + encodeURIComponent(id) + limit, {
      headers: { accept: 'application/json', ...authorization() },
    });
  } catch (error) {
    return message(
      `The Threadline API did not answer (${(error as Error).message}). Is it running?`,
      true,
    );
  }
  if (response.status === 401) {
    sessionStorage.removeItem(KEY);
    const key = window.prompt('This Threadline needs an API key (the API answered 401). Your key:');
    if (key && key.trim()) {
      sessionStorage.setItem(KEY, key.trim());
      return load();
    }
    return message('This Threadline needs an API key: reload the page and enter yours.', true);
  }
  if (response.status === 404) {
    return message(
      `Nothing found for ${id}: no log line carries it as a request_id, correlation_id, task_id or trace.id.`,
      false,
    );
  }
  if (!response.ok) {
    const problem = (await response.json().catch(() => ({}))) as { detail?: string };
    return message(
      `Cannot show this trace: ${problem.detail || `${response.status} ${response.statusText}`}`,
      true,
    );
  }
  const trace = (await response.json()) as Trace;
  render(trace);
  // A cut trace's first lines do not change: asking again would show the same.
  if (
    !trace.truncated &&
    (trace.summary.status === 'queued' || trace.summary.status === 'running')
  ) {
    setTimeout(() => void load(), 1000);
  }
}

if (id) {
  input.value = id;
  document.title = `Trace ${id} · Threadline`;
  void load();
}
