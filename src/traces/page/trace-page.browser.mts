/// <reference lib="dom" />
/**
 * The trace page's script, run by the browser. `/trace` lists the recent flows
 * (flow-list.browser.mts); `/trace/<id>` reads GET /api/v1/traces/:id and draws the flow as a
 * waterfall (waterfall.browser.mts). `nest build` compiles it with the rest (an ES module, like
 * those it imports); the page controller serves them.
 * @see docs/trace.md#the-trace-page
 */
import type { Trace } from '../trace';
import { getJson } from './api-client.browser.mjs';
import { showFlowList } from './flow-list.browser.mjs';
import { el, element } from './page-dom.browser.mjs';
import { Waterfall } from './waterfall.browser.mjs';

const main = element('main', HTMLElement);
const input = element('id', HTMLInputElement);
const id = decodeURIComponent(location.pathname.replace(/^\/trace\/?/, ''));

element('search', HTMLFormElement).addEventListener('submit', (event) => {
  event.preventDefault();
  if (input.value.trim()) location.href = '/trace/' + encodeURIComponent(input.value.trim());
});

const message = (text: string, error: boolean): void => {
  main.replaceChildren(
    el('p', { class: 'message' + (error ? ' error' : ''), role: error ? 'alert' : 'status', text }),
  );
};

// The page's own ?limit= goes to the API, which checks it.
const asked = new URLSearchParams(location.search).get('limit');
const limit = asked === null ? '' : '?limit=' + encodeURIComponent(asked);
const waterfall = new Waterfall(main, document.body.dataset.kibanaUrl, id);

async function load(): Promise<void> {
  const answer = await getJson<Trace>('/api/v1/traces/' + encodeURIComponent(id) + limit);
  if (!answer.ok) {
    if (answer.status === 404) {
      return message(
        `Nothing found for ${id}: no log line carries it as a request_id, correlation_id, task_id or trace.id.`,
        false,
      );
    }
    return message(
      answer.status === 0 || answer.status === 401
        ? answer.detail
        : `Cannot show this trace: ${answer.detail}`,
      true,
    );
  }
  const trace = answer.body;
  waterfall.render(trace);
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
} else {
  document.title = 'Recent flows · Threadline';
  showFlowList(main);
}
