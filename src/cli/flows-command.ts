import { errors } from '@elastic/elasticsearch';
import { decodeCursor, FLOWS_MAX_LIMIT, type FlowFilter } from '../traces/flows/flow-filter';
import { type FlowList, FlowSearch } from '../traces/flows/flow-search';
import { type EsValues, esTarget } from './es-target';
import { EXIT } from './exit-codes';
import { type FlowsValues, flowsFilterOf, slowMsOf } from './flows-options';
import { errorWidth, flowRow, flowsHeader, nextPageNotice, truncatedNotice } from './flows-render';
import { err, out } from './output';
import { COLOURS, PLAIN } from './render';
import { UsageError } from './usage-error';

/** Pages `--all` reads at most: 100 pages of 100 flows is twice what one window lists. */
export const ALL_MAX_PAGES = 100;

export interface FlowsCommandValues extends FlowsValues, EsValues {
  format?: string;
  all?: boolean;
}

/** An answer of Elasticsearch that says it could not, or would not, list: exit 3. */
export function refusal(error: unknown, url: string): string | undefined {
  if (!(error instanceof errors.ResponseError)) return undefined;
  const status = error.statusCode ?? 0;
  const said = error.message.split('\n')[0].slice(0, 200);
  if (status === 401 || status === 403) {
    return `Elasticsearch at ${url} refused the search (${status}: ${said}): set ELASTICSEARCH_API_KEY, or ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD, to credentials that may read the log streams.`;
  }
  if (status === 429 || status >= 500) {
    return `Elasticsearch at ${url} could not answer (${status}: ${said}). Try again later.`;
  }
  return undefined;
}

/**
 * `threadline flows`: the flows of a window that pass the filters, the one whose last line is
 * the most recent first, read from Elasticsearch as `GET /api/v1/flows` reads them (the same
 * FlowSearch and checks). Exit codes: 0 a flow listed; 1 none matched; 2 a bad option
 * (UsageError); 3 Elasticsearch did not answer (TraceUnavailableError, thrown), or refused
 * (401, 403) or failed (429, 5xx).
 * @see docs/flows.md
 */
export async function listFlows(
  values: FlowsCommandValues,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const format = values.format ?? 'table';
  if (format !== 'table' && format !== 'json' && format !== 'ndjson') {
    throw new UsageError(`--format must be table, json or ndjson, not "${format}"`);
  }
  // --all reads every page: the largest pages take the fewest searches.
  const limit = values.limit ?? (values.all ? String(FLOWS_MAX_LIMIT) : undefined);
  let filter: FlowFilter = flowsFilterOf({ ...values, limit }, slowMsOf(env.FLOW_SLOW_MS));
  const target = esTarget(values, env);
  const search = FlowSearch.connect(target.url, target.dataStream, target.options);
  const style = process.stdout.isTTY && !env.NO_COLOR ? COLOURS : PLAIN;
  const width = errorWidth(process.stdout.isTTY ? process.stdout.columns : undefined);
  const all: FlowList = {
    flows: [],
    next_cursor: null,
    truncated: false,
    search: { took_ms: 0, requests: 0 },
  };
  try {
    for (let pages = 1; ; pages += 1) {
      let page: FlowList;
      try {
        page = await search.list(filter);
      } catch (error) {
        const message = refusal(error, search.url);
        if (!message) throw error;
        err(`threadline: ${message}`);
        return EXIT.UNREACHABLE;
      }
      const first = all.flows.length === 0;
      all.flows.push(...page.flows);
      all.next_cursor = page.next_cursor;
      all.truncated ||= page.truncated;
      all.search.took_ms += page.search.took_ms;
      all.search.requests += page.search.requests;
      if (format === 'table' && page.flows.length > 0) {
        if (first) out(`${flowsHeader(style)}\n`);
        out(page.flows.map((flow) => `${flowRow(flow, style, width)}\n`).join(''));
      } else if (format === 'ndjson') {
        out(page.flows.map((flow) => `${JSON.stringify(flow)}\n`).join(''));
      } else if (format === 'json' && !values.all) {
        out(`${JSON.stringify(page, null, 2)}\n`);
      }
      const after = page.next_cursor ? decodeCursor(page.next_cursor) : undefined;
      if (!values.all || !after) break;
      if (pages >= ALL_MAX_PAGES) {
        err(`threadline: stopped after ${ALL_MAX_PAGES} pages (${all.flows.length} flows).`);
        break;
      }
      filter = { ...filter, after };
    }
    // --all --format json: the pages as one list.
    if (format === 'json' && values.all) out(`${JSON.stringify(all, null, 2)}\n`);
    if (all.flows.length === 0) {
      err(`No flows in that window pass those filters in ${search.url} (${target.dataStream}).`);
      return EXIT.NOT_FOUND;
    }
    // json says next_cursor and truncated itself; ndjson's stdout stays one flow a line.
    const notices = [
      all.next_cursor ? nextPageNotice(all.next_cursor) : '',
      all.truncated ? truncatedNotice() : '',
    ].filter(Boolean);
    if (format === 'table') {
      const count = `${all.flows.length} flow${all.flows.length === 1 ? '' : 's'}`;
      out(`\n${[count, ...notices.map((n) => style.bold(n))].join('\n')}\n`);
    } else if (format === 'ndjson') {
      for (const notice of notices) err(notice);
    }
    return EXIT.FOUND;
  } finally {
    await search.close();
  }
}
