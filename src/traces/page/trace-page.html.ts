/**
 * The trace page's HTML and style. Its script (`trace-page.browser.mts`) reads
 * GET /api/v1/traces/:id and draws the flow as a waterfall; nothing is fetched from elsewhere.
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

const escapeAttribute = (value: string): string =>
  value.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');

/**
 * The page, with Kibana's address (KIBANA_URL, may be empty) for its links, loading its script
 * (an ES module) from `scriptUrl`.
 */
export function tracePage(kibanaUrl: string, scriptUrl: string): string {
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
<script type="module" src="${escapeAttribute(scriptUrl)}"></script>
</body>
</html>
`;
}
