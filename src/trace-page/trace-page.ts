/**
 * The trace page: one self-contained HTML document (no build step, nothing fetched from
 * elsewhere) that reads GET /api/v1/traces/:id and draws the flow as a waterfall.
 * @see docs/trace.md#the-trace-page
 */

export const STYLE = `
  :root { color-scheme: light; --ink: #1d1d1f; --muted: #595959; --line: #d0d0d0;
    --nginx: #2f6f9f; --api: #2e7d4f; --queue: #8a6d00; --run: #6a3fa0; --retried: #b45309; --failed: #b42318; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--ink); background: #fff; }
  header { padding: 12px 20px; border-bottom: 1px solid var(--line); display: flex; gap: 16px; align-items: center; }
  header h1 { font-size: 17px; margin: 0; }
  form { display: flex; gap: 8px; flex: 1; }
  label { font-weight: 600; align-self: center; }
  input { flex: 1; max-width: 520px; padding: 6px 8px; font: inherit; border: 1px solid #767676; border-radius: 4px; }
  button { padding: 6px 14px; font: inherit; border: 1px solid #1d1d1f; background: #1d1d1f; color: #fff; border-radius: 4px; cursor: pointer; }
  :focus-visible { outline: 3px solid #0b57d0; outline-offset: 2px; }
  main { padding: 16px 20px; }
  .message { padding: 12px 16px; border: 1px solid var(--line); border-radius: 6px; max-width: 760px; }
  .message.error { border-color: var(--failed); color: var(--failed); }
  .message.cut { margin: 0 0 14px; border-color: var(--retried); background: #fff7ed; }
  .summary { margin: 0 0 14px; }
  .summary .status { font-weight: 700; }
  .rows { list-style: none; margin: 0; padding: 0; }
  .row { display: grid; grid-template-columns: 330px 1fr; gap: 10px; align-items: start; padding: 3px 0; border-top: 1px solid #f0f0f0; }
  .label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .track { position: relative; height: 22px; background: #fafafa; }
  .bar { position: absolute; top: 2px; height: 18px; min-width: 2px; border-radius: 3px; }
  .duration { position: absolute; top: 2px; margin-left: 4px; font-size: 12px; line-height: 18px; color: var(--muted); white-space: nowrap; }
  .bar.nginx { background: var(--nginx); } .bar.api { background: var(--api); }
  .bar.queue { background: var(--queue); } .bar.attempt { background: var(--run); }
  .bar.retried { background: var(--retried); } .bar.failed { background: var(--failed); }
  .bar.running { background: repeating-linear-gradient(45deg, var(--run), var(--run) 6px, #8d6cc0 6px, #8d6cc0 12px); }
  details { grid-column: 1 / -1; margin: 0 0 4px 16px; }
  summary { cursor: pointer; color: var(--muted); font-size: 13px; }
  .lines { font: 12px/1.5 ui-monospace, monospace; margin: 4px 0; padding: 0; list-style: none; }
  .lines li { white-space: pre-wrap; }
  .level-error, .level-fatal { color: var(--failed); font-weight: 700; }
  .level-warn { color: var(--retried); }
  .level-info { color: var(--api); }
  a { color: #0b57d0; }
`;

export const SCRIPT = `
(() => {
  const main = document.getElementById('main');
  const input = document.getElementById('id');
  const kibana = document.body.dataset.kibanaUrl;
  const id = decodeURIComponent(location.pathname.replace(/^\\/trace\\/?/, ''));
  document.getElementById('search').addEventListener('submit', (event) => {
    event.preventDefault();
    if (input.value.trim()) location.href = '/trace/' + encodeURIComponent(input.value.trim());
  });
  if (!id) return;
  input.value = id;
  document.title = 'Trace ' + id + ' · Threadline';

  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === 'text') node.textContent = value;
      else if (key === 'style') node.style.cssText = value; // CSSOM: allowed by the page's CSP
      else node.setAttribute(key, value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  };
  const idLink = (value) => el('a', { href: '/trace/' + encodeURIComponent(value), 'data-id': value, text: value.slice(0, 8) });
  const ms = (value) => value === null || value === undefined ? '?' : (value >= 10000 ? (value / 1000).toFixed(1) + ' s' : Math.round(value) + ' ms');
  const time = (line) => Date.parse(line['@timestamp']);
  const message = (text, error) => { main.replaceChildren(el('p', { class: 'message' + (error ? ' error' : ''), role: error ? 'alert' : 'status', text })); };

  function bars(trace) {
    const rows = [];
    const lines = trace.lines;
    for (const request of trace.requests) {
      const own = lines.filter((l) => l.request_id === request.request_id && l['event.action'] === 'http-request');
      const nginx = own.find((l) => l['service.name'] === 'nginx');
      const api = own.find((l) => l['service.name'] === 'threadline-api');
      const label = (request.method || '?') + ' ' + (request.path || '?') + ' ' + (request.status || '');
      if (nginx && request.nginx_ms !== null) rows.push({ kind: 'nginx', depth: 0, label: 'nginx ' + label, ids: [request.request_id],
        start: time(nginx) - request.nginx_ms, end: time(nginx), lines: lines.filter((l) => l === nginx) });
      if (api) rows.push({ kind: 'api', depth: 0, label: 'API ' + label, ids: [request.request_id],
        start: time(api) - (request.api_ms || 0), end: time(api), lines: lines.filter((l) => l.request_id === request.request_id && l['service.name'] === 'threadline-api' && !l.task_id || l === api) });
    }
    const byId = new Map(trace.tasks.map((t) => [t.task_id, t]));
    const addTask = (task, depth) => {
      const own = lines.filter((l) => l.task_id === task.task_id && l['service.name'] === 'threadline-worker');
      const queued = lines.find((l) => l.task_id === task.task_id && l['event.action'] === 'task-queued');
      const first = task.attempts[0];
      if (first) {
        const start = queued ? time(queued) : Date.parse(first.started_at) - (first.queue_wait_ms || 0);
        rows.push({ kind: 'queue', depth, label: 'queue ' + (task.queue || '?') + ' · ' + (task.type || 'task'), ids: [task.task_id],
          start, end: Date.parse(first.started_at), lines: queued ? [queued] : [] });
      } else if (queued) {
        rows.push({ kind: 'queue', depth, label: 'queued on ' + (task.queue || '?') + ' · ' + (task.type || 'task'), ids: [task.task_id],
          start: time(queued), end: Date.now(), lines: [queued] });
      }
      task.attempts.forEach((attempt, i) => {
        const next = task.attempts[i + 1];
        const end = attempt.finished_at ? Date.parse(attempt.finished_at) : Date.now();
        rows.push({ kind: 'attempt', outcome: attempt.outcome, depth, label: (task.type || 'task') + ' attempt ' + attempt.attempt + ' · ' + attempt.outcome,
          ids: [task.task_id], start: Date.parse(attempt.started_at), end,
          lines: own.filter((l) => time(l) >= Date.parse(attempt.started_at) && (!next || time(l) < Date.parse(next.started_at))) });
      });
      for (const child of task.children) if (byId.has(child)) addTask(byId.get(child), depth + 1);
    };
    for (const task of trace.tasks) if (!task.parent_id || !byId.has(task.parent_id)) addTask(task, 0);
    return rows;
  }

  function render(trace) {
    const rows = bars(trace);
    const start = Math.min(...rows.map((r) => r.start), time(trace.lines[0]));
    const end = Math.max(...rows.map((r) => r.end), time(trace.lines[trace.lines.length - 1]));
    const span = Math.max(1, end - start);
    const summary = el('p', { class: 'summary' },
      'Flow ', ...trace.correlation_ids.flatMap((c) => [idLink(c), ' ']),
      '· ', el('span', { class: 'status', 'data-status': trace.summary.status, text: trace.summary.status }),
      ' · ' + ms(trace.summary.total_ms) + ' · ' + (trace.truncated ? 'first ' : '') + trace.summary.lines + ' lines · ' + trace.summary.retries + ' retries');
    if (kibana) summary.append(' · ', el('a', { href: kibana.replace(/\\/+$/, '') + "/app/discover#/view/threadline-flow-by-correlation-id?_a=(query:(language:lucene,query:'correlation_id:%22" + encodeURIComponent(trace.correlation_ids[0] || id) + "%22'))", text: 'Open in Kibana' }));
    const list = el('ul', { class: 'rows', 'aria-label': 'Waterfall of the flow' });
    for (const row of rows) {
      const left = ((row.start - start) / span) * 100;
      const width = Math.max(0.2, ((row.end - row.start) / span) * 100);
      const duration = ms(row.end - row.start);
      const classes = 'bar ' + row.kind + (row.outcome && row.outcome !== 'completed' ? ' ' + row.outcome : '');
      const bar = el('div', { class: classes, 'data-bar': row.kind, style: 'left:' + left + '%;width:' + width + '%', role: 'img', 'aria-label': row.label + ': ' + duration });
      const length = el('span', { class: 'duration', style: 'left:' + Math.min(left + width, 92) + '%', 'aria-hidden': 'true', text: duration });
      const label = el('div', { class: 'label', style: 'padding-left:' + row.depth * 18 + 'px' }, row.label + ' ', ...row.ids.map(idLink));
      const item = el('li', { class: 'row' }, label, el('div', { class: 'track' }, bar, length));
      if (row.lines.length) {
        const hasError = row.lines.some((l) => l['log.level'] === 'error' || l['log.level'] === 'fatal');
        const details = el('details', hasError ? { open: '' } : {}, el('summary', { text: row.lines.length + ' log line' + (row.lines.length > 1 ? 's' : '') }));
        const ul = el('ul', { class: 'lines' });
        for (const l of row.lines) {
          const level = l['log.level'] || 'info';
          ul.append(el('li', {}, l['@timestamp'] + ' ', el('span', { class: 'level-' + level, text: level.padEnd(5) }), ' ' + (l['service.name'] || '') + '  ' + (l.message || '')));
        }
        details.append(ul);
        item.append(details);
      }
      list.append(item);
    }
    // A cut trace says so above the waterfall, and how to see the rest.
    const cut = trace.truncated && el('p', { class: 'message cut', role: 'status', 'data-truncated': '' },
      el('strong', { text: 'Only the first ' + trace.summary.lines + ' lines of this flow are shown: it has more. ' }),
      'Bars and status cover those lines only. To see more, add ?limit= to the address of this page (up to TRACE_MAX_LIMIT, the most the API gives), or narrow the time with threadline trace ' + id + ' --since/--until.');
    main.replaceChildren(...[summary, cut, list].filter(Boolean));
  }

  // With API keys on (API_KEYS), the page asks for one on the first 401 and keeps it for the tab.
  const KEY = 'threadline-api-key';
  // The page's own ?limit= goes to the API, which checks it.
  const asked = new URLSearchParams(location.search).get('limit');
  const limit = asked === null ? '' : '?limit=' + encodeURIComponent(asked);
  function authorization() {
    const key = sessionStorage.getItem(KEY);
    return key ? { authorization: 'Bearer ' + key } : {};
  }

  async function load() {
    let response;
    try {
      response = await fetch('/api/v1/traces/' + encodeURIComponent(id) + limit, { headers: { accept: 'application/json', ...authorization() } });
    } catch (error) {
      return message('The Threadline API did not answer (' + error.message + '). Is it running?', true);
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
    if (response.status === 404) return message('Nothing found for ' + id + ': no log line carries it as a request_id, correlation_id, task_id or trace.id.', false);
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      return message('Cannot show this trace: ' + (problem.detail || response.status + ' ' + response.statusText), true);
    }
    const trace = await response.json();
    render(trace);
    // A cut trace's first lines do not change: asking again would show the same.
    if (!trace.truncated && (trace.summary.status === 'queued' || trace.summary.status === 'running')) setTimeout(load, 1000);
  }
  load();
})();
`;

const escapeAttribute = (value: string): string =>
  value.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');

/** The page, with Kibana's address (KIBANA_URL, may be empty) for its links. */
export function tracePage(kibanaUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trace · Threadline</title>
<style>${STYLE}</style>
</head>
<body data-kibana-url="${escapeAttribute(kibanaUrl)}">
<header>
  <h1>Threadline</h1>
  <form id="search" role="search">
    <label for="id">Trace an ID</label>
    <input id="id" name="id" autocomplete="off" placeholder="request_id, correlation_id, task_id or trace.id" required>
    <button type="submit">Trace</button>
  </form>
</header>
<main id="main" aria-live="polite"></main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
