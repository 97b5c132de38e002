/**
 * The trace page's HTML and style. Its script (`trace-page.browser.mts`) lists the recent flows
 * (GET /api/v1/flows) or, for an ID, reads GET /api/v1/traces/:id and draws the flow as a
 * waterfall; nothing is fetched from elsewhere. All the style is here: the CSP allows it by hash.
 * @see docs/trace.md#the-trace-page
 */

export const STYLE = `
  :root { color-scheme: light; --ink: #1d1d1f; --muted: #595959; --line: #d0d0d0;
    --nginx: #2f6f9f; --api: #2e7d4f; --queue: #8a6d00; --run: #6a3fa0; --retried: #b45309; --failed: #b42318;
    --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--ink); background: #fff; }
  header { padding: 12px 20px; border-bottom: 1px solid var(--line); display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; }
  header h1 { font-size: 17px; margin: 0; }
  header h1 a { color: inherit; text-decoration: none; }
  #search { display: flex; flex-wrap: wrap; gap: 8px; flex: 1; min-width: 0; }
  label { font-weight: 600; align-self: center; }
  input, select { padding: 6px 8px; font: inherit; border: 1px solid #767676; border-radius: 4px; background: #fff; color: var(--ink); min-width: 0; }
  #search input { flex: 1 1 220px; max-width: 520px; }
  button { padding: 6px 14px; font: inherit; border: 1px solid #1d1d1f; background: #1d1d1f; color: #fff; border-radius: 4px; cursor: pointer; }
  button:disabled { cursor: default; }
  :focus-visible { outline: 3px solid #0b57d0; outline-offset: 2px; }
  main { padding: 16px 20px; }
  h2 { font-size: 17px; margin: 0 0 10px; }
  h3 { font-size: 15px; margin: 14px 0 6px; }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  .message { padding: 12px 16px; border: 1px solid var(--line); border-radius: 6px; max-width: 760px; }
  .message.error { border-color: var(--failed); color: var(--failed); }
  .message.cut { margin: 0 0 14px; border-color: var(--retried); background: #fff7ed; }

  .filters { display: flex; flex-wrap: wrap; gap: 10px 16px; align-items: end; margin: 0 0 14px; }
  .field { display: flex; flex-direction: column; gap: 2px; }
  .field label { font-size: 13px; align-self: flex-start; }
  .field input { width: 12em; }
  .histogram-box { margin: 0 0 14px; max-width: 960px; }
  .histogram { display: flex; align-items: stretch; gap: 2px; height: 72px; border-bottom: 1px solid var(--ink); }
  .hbar { flex: 1; min-width: 0; padding: 0; border: 0; border-radius: 0; background: transparent; display: flex; align-items: flex-end; }
  .hbar:hover:enabled .hbar-total { background: #0b57d0; }
  .hbar-total { display: flex; align-items: flex-end; width: 100%; min-height: 0; background: #4a6fa5; border-radius: 2px 2px 0 0; }
  .hbar-failed { display: block; width: 100%; background: var(--failed); }
  .histogram-axis { display: flex; justify-content: space-between; gap: 8px; font-size: 12px; color: var(--muted); margin-top: 2px; }
  .swatch { display: inline-block; width: 10px; height: 10px; vertical-align: baseline; }
  .swatch.failed { background: var(--failed); }
  .flow-table { border-collapse: collapse; width: 100%; font-size: 14px; }
  .flow-table th { text-align: left; font-size: 13px; color: var(--muted); border-bottom: 1px solid var(--line); padding: 4px 8px; }
  .flow-table td { padding: 6px 8px; border-bottom: 1px solid #ececec; vertical-align: top; }
  .flow-table tr.flow { cursor: pointer; }
  .flow-table tr.flow:hover { background: #f5f7fb; }
  .flow-table tr.status-failed td:first-child { box-shadow: inset 4px 0 var(--failed); }
  .flow-table tr.status-running td:first-child { box-shadow: inset 4px 0 var(--run); }
  .flow-table tr.status-completed td:first-child { box-shadow: inset 4px 0 var(--api); }
  .flow-table tr.status-none td:first-child { box-shadow: inset 4px 0 var(--line); }
  .flow-id { font-family: var(--mono); font-size: 13px; word-break: break-all; }
  .num { white-space: nowrap; }
  .error-cell { color: var(--failed); overflow-wrap: anywhere; }
  .badges { display: flex; flex-wrap: wrap; gap: 4px; }
  .badge { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px; font-weight: 700; line-height: 20px; color: #fff; white-space: nowrap; }
  .badge.status-failed { background: var(--failed); } .badge.status-running { background: var(--run); }
  .badge.status-completed { background: var(--api); } .badge.status-none { background: #e8e8e8; color: var(--ink); }
  .badge.slow { background: #fff7ed; color: #8a3c06; border: 1px solid var(--retried); line-height: 18px; }
  .list-foot { display: flex; gap: 16px; align-items: center; margin-top: 10px; }
  .count { margin: 0; color: var(--muted); }

  .summary { margin: 0 0 8px; }
  .summary .flow-id { font-size: 14px; }
  .summary .status { font-weight: 700; }
  .legend { margin: 0 0 10px; font-size: 13px; color: var(--muted); }
  .path-mark { color: var(--ink); }
  .trace-layout { display: grid; grid-template-columns: minmax(0, 1fr); gap: 20px; }
  @media (min-width: 1100px) { .trace-layout { grid-template-columns: minmax(0, 1fr) 380px; }
    .detail { position: sticky; top: 8px; max-height: calc(100vh - 16px); overflow: auto; } }
  .rows { list-style: none; margin: 0; padding: 0; }
  .row, .axis { display: grid; grid-template-columns: 330px minmax(0, 1fr); gap: 10px; align-items: center; padding: 3px 0; border-top: 1px solid #f0f0f0; }
  .axis { border-top: 0; font-size: 12px; color: var(--muted); }
  .axis-track { position: relative; height: 20px; border-bottom: 1px solid var(--muted); }
  .tick { position: absolute; bottom: 0; padding: 0 0 2px 3px; border-left: 1px solid var(--muted); height: 14px; line-height: 12px; white-space: nowrap; }
  .tick.end { transform: translateX(-100%); border-left: 0; border-right: 1px solid var(--muted); padding: 0 3px 2px 0; }
  .label { display: flex; flex-direction: column; min-width: 0; }
  .label .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .label .id { font: 12px/1.4 var(--mono); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .track { position: relative; height: 26px; background: #fafafa; cursor: pointer; }
  .bar { position: absolute; top: 4px; height: 18px; min-width: 4px; padding: 0; border: 0; border-radius: 3px; }
  .bar[aria-pressed="true"] { outline: 3px solid var(--ink); outline-offset: 1px; }
  .bar.critical { box-shadow: 0 -4px 0 -1px var(--ink); }
  .duration { position: absolute; top: 4px; margin-left: 4px; font-size: 12px; line-height: 18px; color: var(--muted); white-space: nowrap; pointer-events: none; }
  .duration.before { margin: 0 4px 0 0; }
  .duration.inside { color: #fff; margin-left: 6px; }
  .bar.nginx { background: var(--nginx); } .bar.api { background: var(--api); }
  .bar.queue { background: var(--queue); } .bar.attempt { background: var(--run); }
  .bar.retried { background: var(--retried); } .bar.failed { background: var(--failed); }
  .bar.running { background: repeating-linear-gradient(45deg, var(--run), var(--run) 6px, #8d6cc0 6px, #8d6cc0 12px); }
  details { grid-column: 1 / -1; margin: 0 0 4px 16px; }
  summary { cursor: pointer; color: var(--muted); font-size: 13px; }
  .lines { font: 12px/1.5 var(--mono); margin: 4px 0; padding: 0; list-style: none; }
  .lines li { white-space: pre-wrap; overflow-wrap: anywhere; }
  .level-error, .level-fatal { color: var(--failed); font-weight: 700; }
  .level-warn { color: var(--retried); }
  .level-info { color: var(--api); }
  .detail { border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; align-self: start; }
  .detail h2 { overflow-wrap: anywhere; }
  .facts { margin: 0 0 8px; font-size: 14px; }
  .detail dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 2px 10px; margin: 0; font-size: 13px; }
  .detail dt { color: var(--muted); font-family: var(--mono); }
  .detail dd { margin: 0; overflow-wrap: anywhere; }
  .full-id { font: 13px var(--mono); overflow-wrap: anywhere; }
  .copy { padding: 0 8px; font-size: 12px; line-height: 20px; background: #fff; color: var(--ink); }
  .copied { margin-left: 6px; font-size: 12px; color: var(--api); }
  .line-details { list-style: none; margin: 0; padding: 0; }
  .line-detail { border-top: 1px solid #ececec; padding: 6px 0; }
  .line-detail dl { grid-template-columns: minmax(0, 40%) minmax(0, 1fr); }
  .line-detail dt { overflow-wrap: anywhere; }
  .line-detail dd { font-family: var(--mono); white-space: pre-wrap; }
  a { color: #0b57d0; }

  @media (max-width: 700px) {
    header, main { padding-left: 12px; padding-right: 12px; }
    #search { flex-basis: 100%; }
    #search label { flex-basis: 100%; }
    .detail dl { grid-template-columns: minmax(0, 1fr); }
    .detail dd { margin-bottom: 4px; }
    .row, .axis { grid-template-columns: minmax(0, 1fr); gap: 2px; }
    .axis-label { display: none; }
    .flow-table thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
    .flow-table, .flow-table tbody, .flow-table tr, .flow-table td { display: block; width: 100%; }
    .flow-table tr.flow { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 10px; padding: 6px 4px 6px 8px; }
    .flow-table tr.status-failed { border-left: 5px solid var(--failed); } .flow-table tr.status-running { border-left: 5px solid var(--run); }
    .flow-table tr.status-completed { border-left: 5px solid var(--api); }
    .flow-table tr.flow td:first-child { box-shadow: none; }
    .field, .field select { max-width: 100%; }
    .flow-table td { border: 0; padding: 2px 4px; display: grid; grid-template-columns: 6.5em minmax(0, 1fr); gap: 8px; }
    .flow-table td::before { content: attr(data-label); color: var(--muted); font-size: 13px; }
  }
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
  <h1><a href="/trace">Threadline</a></h1>
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
