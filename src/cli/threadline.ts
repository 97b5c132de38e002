#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildTrace, isFinished, type Trace, type TraceLine } from '../traces/trace';
import { isTimeBound, TIME_BOUND_RULE } from '../traces/time-bound';
import { TraceUnavailableError } from '../traces/log-search-connection';
import { TraceSearch } from '../traces/trace-search';
import { isServiceUrl } from '../config/is-service-url.validator';
import { esTarget } from './es-target';
import { EXIT } from './exit-codes';
import { err, out } from './output';
import { COLOURS, cutNotice, PLAIN, renderTable, timelineRow } from './render';
import { ALL_MAX_PAGES, listFlows } from './flows-command';
import { FLOWS_OPTIONS } from './flows-options';
import { API_TIMEOUT_S, showTask } from './task-command';
import { UsageError } from './usage-error';
import { packageVersion } from './version';

/** How long --follow waits for a flow's first searchable line, in seconds. */
const FOLLOW_START_S = 30;
/** Lines a trace shows without --limit: the flow's first ones in time order. */
const DEFAULT_LIMIT = 10_000;
/**
 * The largest --limit: the CLI holds the lines it prints in memory (about 1 KB each). Larger
 * than the API's TRACE_MAX_LIMIT, as the CLI's memory is its user's own.
 */
const MAX_LIMIT = 100_000;

const USAGE = `Usage: threadline trace <id> [options]
       threadline flows [options]
       threadline task <task_id> [--api-url <url>]
       threadline --version | --help

trace  follows any ID (request_id, correlation_id, task_id or trace.id) across nginx, the API,
       the queue and the workers: the IDs and how they relate, every line in time order, and
       a summary (nginx → API latency, queue wait and run time per attempt, retries, status).
flows  lists the flows of a time window, the most recent first: what failed, retried or was
       slow, of a task type, queue or service (as GET /api/v1/flows; docs/flows.md).
task   prints a task's status from the API, as JSON.

Options of trace:
  --format table|json|ndjson   table for people (default), json: the whole trace, ndjson: one line per log line
  --since <time>               only lines from then on (ISO 8601, or now-1h)
  --until <time>               only lines until then
  --limit <n>                  at most n lines, the flow's first (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT});
                               a trace with more says so
  --follow                     keep printing new lines until the flow's tasks finish
  --kibana-url <url>           also print a Kibana Discover link for the flow
  --es-url <url>               Elasticsearch: a URL, or several nodes' URLs separated by commas
                               (default: ELASTICSEARCH_URL, else http://127.0.0.1:9200)
  --data-stream <name>         the LOG_DATA_STREAM the lines were written with: its streams are searched
                               (logs-threadline.api-default, …; default: LOG_DATA_STREAM, else logs-threadline-default)
  --insecure                   do not verify Elasticsearch's TLS certificate
Credentials: ELASTICSEARCH_API_KEY, or ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD.

Options of flows (and --es-url, --data-stream, --insecure as trace takes them):
  --since, --until <time>      the window: a duration back from now (15m, 1h, 7d), an ISO 8601
                               time, or date math (now-1h); default the last hour
  --status <status>            failed, retried, slow (FLOW_SLOW_MS, default 5000 ms), running or completed
  --type <task type>           flows with a task of this type (calculate_var, echo, …)
  --queue <queue>              flows with a task on this queue
  --service <service>          flows with a line of this service (nginx, threadline-api, threadline-worker)
  --min-duration <time>        flows that lasted at least this long: ms (1500), or 500ms, 2s, 1m
  --limit <n>                  flows a page, 1 to 100 (default 20; 100 with --all)
  --cursor <cursor>            the next page, as the page before printed it (same options)
  --all                        every page, printed as it comes (at most ${ALL_MAX_PAGES} pages)
  --format                     table (default), json: the whole list, ndjson: one flow a line

Options of task:
  --api-url <url>              the API (default: THREADLINE_API_URL, else http://127.0.0.1:3000)
Credentials: THREADLINE_API_KEY, one of the API's keys (its API_KEYS), sent as a Bearer token;
             needed when the API has keys on, as docker compose runs it.

Other options:
  -V, --version                print the version
  -h, --help                   print this help

Exit codes: 0 found; 1 nothing for that ID (no such task, no flow matched); 2 usage error;
3 Elasticsearch or the API did not answer (down, ${API_TIMEOUT_S} s without an answer, or a 5xx or
429; flows: Elasticsearch refused its credentials, 401 or 403); 4 the API refused
THREADLINE_API_KEY (401, 403).
Run it as npm run threadline -- trace <id>, or npx threadline trace <id>. See docs/trace.md.
`;

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      tokens: true,
      options: {
        ...FLOWS_OPTIONS,
        format: { type: 'string', default: 'table' },
        since: { type: 'string' },
        until: { type: 'string' },
        limit: { type: 'string' },
        follow: { type: 'boolean', default: false },
        'kibana-url': { type: 'string' },
        'es-url': { type: 'string' },
        'data-stream': { type: 'string' },
        'api-url': { type: 'string' },
        insecure: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'V', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function trace(id: string, values: ReturnType<typeof parse>['values']): Promise<number> {
  const format = values.format;
  if (format !== 'table' && format !== 'json' && format !== 'ndjson') {
    throw new UsageError(`--format must be table, json or ndjson, not "${format}"`);
  }
  const limit = values.limit === undefined ? DEFAULT_LIMIT : Number(values.limit);
  if (!/^\d{1,15}$/.test(values.limit ?? '1') || limit < 1) {
    throw new UsageError(
      `--limit must be a whole number of lines from 1 to ${MAX_LIMIT}, not "${values.limit}"`,
    );
  }
  if (limit > MAX_LIMIT) {
    throw new UsageError(
      `--limit may be at most ${MAX_LIMIT} lines, not ${limit}: narrow the flow with --since/--until instead`,
    );
  }
  for (const name of ['since', 'until'] as const) {
    const value = values[name];
    if (value !== undefined && !isTimeBound(value)) {
      throw new UsageError(`--${name} must be ${TIME_BOUND_RULE}, not "${value}"`);
    }
  }
  const target = esTarget(values);
  const search = TraceSearch.connect(target.url, target.dataStream, target.options);
  try {
    const options = { since: values.since, until: values.until, limit };
    let found = await search.trace(id, options);
    // A flow just started may not be searchable yet (refresh interval): --follow waits for it.
    for (let waited = 0; !found && values.follow && waited < FOLLOW_START_S; waited += 1) {
      await sleep(1000);
      found = await search.trace(id, options);
    }
    if (!found) {
      err(
        `No log lines carry ${id} as a request_id, correlation_id, task_id or trace.id in ${search.url}.`,
      );
      return EXIT.NOT_FOUND;
    }
    const style = process.stdout.isTTY && !process.env.NO_COLOR ? COLOURS : PLAIN;
    if (format === 'json') out(`${JSON.stringify(found, null, 2)}\n`);
    else if (format === 'ndjson')
      out(found.lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    else out(renderTable(found, style, { maxLimit: MAX_LIMIT, kibanaUrl: values['kibana-url'] }));
    // json says `truncated` itself, and ndjson's stdout must stay one log line per line.
    if (found.truncated && format !== 'table') err(cutNotice(found.lines.length, MAX_LIMIT));
    if (values.follow) await follow(search, found, { format, style, limit });
    return EXIT.FOUND;
  } finally {
    await search.close();
  }
}

const lineKey = (line: TraceLine): string =>
  JSON.stringify([
    line['@timestamp'],
    line['service.name'],
    line['event.sequence'],
    line.message,
    line.request_id,
  ]);

/**
 * Prints the flow's new lines as they arrive, until its tasks have finished, or until it has
 * printed `limit` lines in all: then it says the flow was cut, as a first answer does.
 */
async function follow(
  search: TraceSearch,
  first: Trace,
  { format, style, limit }: { format: string; style: typeof PLAIN; limit: number },
): Promise<void> {
  // A cut first answer has said so already: the lines after the cut are not followed.
  if (first.truncated) return;
  const seen = new Set(first.lines.map(lineKey));
  let current = first;
  while (!isFinished(current)) {
    await sleep(1000);
    const since = current.lines.at(-1)?.['@timestamp'] ?? first.summary.first_at;
    // At most `limit` lines are read, and `seen` and `current` hold at most `limit` in all.
    const read = await search.since(first.id, first.correlation_ids, since, limit);
    const fresh = read.lines.filter((l) => !seen.has(lineKey(l)));
    const room = limit - current.lines.length;
    const shown = fresh.slice(0, room);
    for (const line of shown) {
      seen.add(lineKey(line));
      out(
        format === 'table'
          ? `  ${timelineRow(line, first.summary.first_at, style)}\n`
          : `${JSON.stringify(line)}\n`,
      );
    }
    // The flow so far is what was printed plus what just came: no need to read it again.
    if (shown.length > 0)
      current = buildTrace(first.id, first.matched, [...current.lines, ...shown], false);
    if (fresh.length > room || (room === 0 && read.truncated)) {
      const notice = cutNotice(current.lines.length, MAX_LIMIT);
      if (format === 'table') out(`\n${style.bold(notice)}\n`);
      else err(notice);
      return;
    }
  }
  if (format === 'table') out(`  flow ${current.summary.status}\n`);
}

/** Options of trace and task that flows does not take, and the command that does. */
const NOT_OF_FLOWS: Record<string, string> = {
  follow: 'trace',
  'kibana-url': 'trace',
  'api-url': 'task',
};

async function main(argv: string[]): Promise<number> {
  const { values, positionals, tokens } = parse(argv);
  const [command, id, ...rest] = positionals;
  if (values.help || command === 'help') {
    out(USAGE);
    return EXIT.FOUND;
  }
  if (values.version) {
    out(`${packageVersion()}\n`);
    return EXIT.FOUND;
  }
  if (!command) throw new UsageError('no command given');
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const owner =
      command === 'flows' ? NOT_OF_FLOWS[token.name] : token.name in FLOWS_OPTIONS && 'flows';
    if (owner) throw new UsageError(`--${token.name} is an option of ${owner}, not of ${command}`);
  }
  if (command === 'flows') {
    if (positionals.length > 1) {
      throw new UsageError(`flows takes options only, not "${positionals.slice(1).join(' ')}"`);
    }
    return listFlows(values);
  }
  if (!id) throw new UsageError(`${command} needs an ID`);
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  if (command === 'trace') return trace(id, values);
  if (command === 'task') {
    const apiUrl = values['api-url'] ?? process.env.THREADLINE_API_URL ?? 'http://127.0.0.1:3000';
    if (!isServiceUrl(apiUrl, ['http:', 'https:'])) {
      throw new UsageError(
        '--api-url (or THREADLINE_API_URL) must be an http:// or https:// URL, e.g. http://127.0.0.1:3000',
      );
    }
    return showTask(id, { apiUrl, apiKey: process.env.THREADLINE_API_KEY?.trim() || undefined });
  }
  throw new UsageError(`unknown command "${command}"`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      err(`threadline: ${error.message}\n`);
      process.stderr.write(USAGE);
      process.exitCode = EXIT.USAGE_ERROR;
    } else if (error instanceof TraceUnavailableError) {
      err(
        `threadline: ${error.message}. Is it running (npm run services -- status)? Pass --es-url or set ELASTICSEARCH_URL.`,
      );
      process.exitCode = EXIT.UNREACHABLE;
    } else {
      err(`threadline: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    }
  },
);
