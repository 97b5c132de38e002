/**
 * How a trace is written for people, shared by the CLI's table (src/cli/render.ts) and the
 * trace page's browser script (src/traces/page/): durations, short IDs, links into Kibana.
 *
 * An ES module (`.mts`) of plain functions with type-only imports, so that the browser can
 * import it as well as Node.
 * @see docs/trace.md
 */
import type { Trace } from './trace';

/** A duration in milliseconds: `12 ms`, or `12.3 s` from 10 s up; `?` when it is not known. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '?';
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** The first 8 characters of an ID: enough to tell a flow's IDs apart; `-` for none. */
export const shortId = (id: string | null | undefined): string => (id ? id.slice(0, 8) : '-');

/**
 * A link into Kibana's Discover: one of the committed saved searches (kibana-dashboards/),
 * narrowed to the lines whose `field` is one of `values`, from `from` (Kibana date math or a
 * quoted ISO time) until now.
 * @see docs/kibana.md
 */
export function discoverLink(
  kibanaUrl: string,
  savedSearch: string,
  field: string,
  values: readonly string[],
  from = 'now-7d',
): string {
  const query = values
    .map((value) => `${field}:%22${encodeURIComponent(value)}%22`)
    .join('%20OR%20');
  return `${kibanaUrl.replace(/\/+$/, '')}/app/discover#/view/${savedSearch}?_g=(time:(from:${from},to:now))&_a=(query:(language:lucene,query:'${query}'))`;
}

/** A Discover link showing every line of the trace's flows, from its first line on. */
export function flowDiscoverLink(kibanaUrl: string, trace: Trace): string {
  const values = trace.correlation_ids.length > 0 ? trace.correlation_ids : [trace.id];
  return discoverLink(
    kibanaUrl,
    'threadline-flow-by-correlation-id',
    'correlation_id',
    values,
    `'${trace.summary.first_at}'`,
  );
}
