// `threadline flows` against Elasticsearch itself, no API: flows of known shape written straight
// into a data stream of their own, at a time of their own (so that no other run's lines fall in
// the window). Each --status lists exactly its flows; table, json and ndjson each show them
// whole; --limit and --cursor, and --all, page through all of them once; and the exit codes
// scripts branch on: 1 for nothing, 2 for a bad option, 3 when Elasticsearch does not answer
// or refuses the credentials.
import { Client } from '@elastic/elasticsearch';
import { randomUUID } from 'node:crypto';
import type { FlowList, FlowSummary } from '../../src/traces/flows/flow-search';
import { threadline } from '../support/cli';
import { ELASTICSEARCH_URL, freePort } from '../support/services';
import { seedStream } from '../support/log-search';

const STREAM = 'logs-threadline-flowscli';
/** A minute of its own in the past: base time of every line of this run. */
const T = Date.UTC(2022, 0, 1) + Math.floor(Math.random() * 1e11);
const run = `fc-${randomUUID().slice(0, 8)}`;
const WINDOW = [
  '--since',
  new Date(T - 3_600_000).toISOString(),
  '--until',
  new Date(T + 600_000).toISOString(),
];
const ENV = { ELASTICSEARCH_URL, LOG_DATA_STREAM: STREAM };

type Line = Record<string, unknown>;

function line(name: string, ms: number, fields: Line = {}): Line {
  return {
    '@timestamp': new Date(T + ms).toISOString(),
    correlation_id: `${run}-${name}`,
    request_id: `${run}-${name}-r`,
    'service.name': 'threadline-api',
    'log.level': 'info',
    message: `${name} at +${ms} ms`,
    ...fields,
  };
}
const api = (name: string, ms: number, status = 202): Line =>
  line(name, ms, { 'event.action': 'http-request', 'http.response.status_code': status });
const queued = (name: string, ms: number, type: string, queue: string): Line =>
  line(name, ms, {
    'event.action': 'task-queued',
    task_id: `${run}-${name}-t`,
    'task.type': type,
    'task.queue': queue,
  });
const worker = (name: string, ms: number, action: string, fields: Line = {}): Line =>
  line(name, ms, {
    'service.name': 'threadline-worker',
    'event.action': action,
    task_id: `${run}-${name}-t`,
    ...fields,
  });

const FLOWS: Record<string, Line[]> = {
  done: [
    api('done', 0),
    queued('done', 5, 'calculate_var', 'high'),
    worker('done', 100, 'task-started'),
    worker('done', 1_100, 'task-completed'),
  ],
  failed: [
    api('failed', 10_000),
    queued('failed', 10_005, 'echo', 'medium'),
    worker('failed', 10_100, 'task-started'),
    worker('failed', 10_500, 'task-failed', {
      'error.message': 'boom: the worker gave up on this one',
      'error.type': 'Error',
    }),
  ],
  retried: [
    api('retried', 20_000),
    queued('retried', 20_005, 'echo', 'medium'),
    worker('retried', 20_100, 'task-started'),
    worker('retried', 20_500, 'task-retried', { 'error.message': 'flaky' }),
    worker('retried', 21_000, 'task-started'),
    worker('retried', 21_500, 'task-completed'),
  ],
  slow: [
    api('slow', 30_000),
    queued('slow', 30_005, 'echo', 'low'),
    worker('slow', 30_100, 'task-started'),
    worker('slow', 38_000, 'task-completed'),
  ],
  running: [
    api('running', 40_000),
    queued('running', 40_005, 'echo', 'medium'),
    worker('running', 40_100, 'task-started'),
  ],
  none: [api('none', 60_000, 400)],
};

/** The flows, the last to end first. */
const ALL = ['none', 'running', 'slow', 'retried', 'failed', 'done'];

const names = (flows: FlowSummary[]): string[] =>
  flows.map((flow) => flow.correlation_id.slice(run.length + 1));

/** `threadline flows` over the run's window. */
const flows = (args: string[], env: Record<string, string> = {}) =>
  threadline(['flows', ...WINDOW, ...args], { ...ENV, ...env });

async function listed(args: string[]): Promise<FlowList> {
  const result = await flows([...args, '--format', 'json']);
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  return JSON.parse(result.stdout) as FlowList;
}

describe('threadline flows, against Elasticsearch', () => {
  const client = new Client({ node: ELASTICSEARCH_URL });

  beforeAll(async () => {
    await seedStream(client, STREAM, Object.values(FLOWS).flat());
  });
  afterAll(() => client.close());

  it('lists the window’s flows, the last to end first, as the whole FlowList in json', async () => {
    const list = await listed(['--limit', '100']);
    expect(names(list.flows)).toEqual(ALL);
    expect([list.next_cursor, list.truncated]).toEqual([null, false]);
  });

  it.each([
    ['failed', ['failed']],
    ['retried', ['retried']],
    ['slow', ['slow']],
    ['running', ['running']],
    ['completed', ['slow', 'retried', 'done']],
  ])('with --status %s, exactly the flows that match', async (status, expected) => {
    expect(names((await listed(['--status', status])).flows)).toEqual(expected);
  });

  it('takes the other filters and FLOW_SLOW_MS as the API does', async () => {
    expect(names((await listed(['--type', 'echo', '--queue', 'low'])).flows)).toEqual(['slow']);
    expect(names((await listed(['--min-duration', '1.2s'])).flows)).toEqual(['slow', 'retried']);
    const slow = await flows(['--status', 'slow', '--format', 'json'], { FLOW_SLOW_MS: '1000' });
    expect(names((JSON.parse(slow.stdout) as FlowList).flows)).toEqual(['slow', 'retried', 'done']);
  });

  it('prints a table people can read: the IDs whole, statuses in words, the first error', async () => {
    const result = await flows([]);
    expect(result.status).toBe(0);
    const rows = result.stdout.split('\n');
    expect(rows[0]).toMatch(/^LAST LINE\s+STATUS\s+DURATION\s+CORRELATION ID/);
    for (const name of ALL) {
      expect(rows.some((row) => row.includes(`${run}-${name} `))).toBe(true);
    }
    const failed = rows.find((row) => row.includes(`${run}-failed `)) ?? '';
    expect(failed).toContain('0/1 done, 1 failed');
    expect(failed).toContain('boom: the worker gave up');
    expect(rows.find((row) => row.includes(`${run}-slow `))).toContain('completed slow');
    expect(result.stdout).toContain('\n6 flows\n');
    expect(result.stdout).not.toContain('\u001b[');
  });

  it('prints one flow a line as ndjson', async () => {
    const result = await flows(['--format', 'ndjson']);
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(names(lines.map((l) => JSON.parse(l) as FlowSummary))).toEqual(ALL);
  });

  it('pages with --limit and --cursor through every flow once, saying how in the table', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5; page += 1) {
      const list: FlowList = await listed([
        '--limit',
        '2',
        ...(cursor ? ['--cursor', cursor] : []),
      ]);
      seen.push(...names(list.flows));
      cursor = list.next_cursor;
      if (!cursor) break;
    }
    expect([seen, cursor]).toEqual([ALL, null]);
    const first = await listed(['--limit', '2']);
    const table = await flows(['--limit', '2']);
    expect(table.stdout).toContain(`--cursor ${first.next_cursor}`);
  });

  it('prints every page with --all, as it comes in ndjson, as one list in json', async () => {
    const ndjson = await flows(['--all', '--limit', '2', '--format', 'ndjson']);
    expect(ndjson.status).toBe(0);
    const lines = ndjson.stdout.trimEnd().split('\n');
    expect(names(lines.map((l) => JSON.parse(l) as FlowSummary))).toEqual(ALL);
    const json = await listed(['--all', '--limit', '2']);
    expect([names(json.flows), json.next_cursor, json.search.requests]).toEqual([ALL, null, 6]);
  });

  it('exits 1 when no flow matches', async () => {
    for (const args of [
      ['--status', 'failed', '--type', 'calculate_var'],
      ['--service', 'nginx'],
    ]) {
      const result = await flows(args);
      expect({ args, status: result.status, stdout: result.stdout }).toEqual({
        args,
        status: 1,
        stdout: '',
      });
      expect(result.stderr).toContain('No flows');
    }
    const recent = await threadline(['flows', '--since', '1m'], ENV);
    expect(recent.status).toBe(1);
  });

  it('exits 2 for an option it cannot take, naming it', async () => {
    for (const [args, named] of [
      [
        ['--status', 'bogus'],
        '--status must be one of failed, retried, slow, running, completed, not "bogus"',
      ],
      [['--since', 'yesterday'], '--since must be'],
      [['--limit', '101'], '--limit must be'],
      [['--cursor', 'nope'], '--cursor must be'],
      [['--follow'], '--follow is an option of trace'],
      [['--format', 'xml'], '--format must be'],
    ] as const) {
      const result = await flows([...args]);
      expect({ args, status: result.status }).toEqual({ args, status: 2 });
      expect(result.stderr).toContain(named);
    }
  });

  it('exits 3 when Elasticsearch does not answer', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await flows(['--es-url', url]);
    expect(result.status).toBe(3);
    expect(result.stderr).toContain(`Elasticsearch at ${url} did not answer`);
  });
});
