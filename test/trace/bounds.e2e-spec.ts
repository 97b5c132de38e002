// A trace has a bound: flows longer than a small TRACE_DEFAULT_LIMIT / TRACE_MAX_LIMIT in a
// data stream of their own, read through the real API and the CLI from the real
// Elasticsearch node. A cut answer keeps the flow's first lines and says `truncated`; a limit
// above the maximum is a 400 naming it; the CLI says what it left out.
import { Client } from '@elastic/elasticsearch';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Trace } from '../../src/traces/trace';
import { ELASTICSEARCH_URL, repoRoot } from '../support/services';
import { seedStream } from '../support/log-search';
import { TestStack } from '../support/stack';

const STREAM = 'logs-threadline-bounds';
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 25;
/** Lines of the long flow: more than the maximum. */
const LONG = 40;

interface Problem {
  status: number;
  title: string;
  detail: string;
}

function threadline(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(
    process.execPath,
    [join(repoRoot, 'dist', 'cli', 'threadline.js'), ...args],
    {
      env: { PATH: process.env.PATH ?? '', ELASTICSEARCH_URL, LOG_DATA_STREAM: STREAM },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** `count` lines of one flow, a millisecond apart from `start`, numbered by event.sequence. */
const flowLines = (flow: string, count: number, start: number): Record<string, unknown>[] =>
  Array.from({ length: count }, (_, i) => ({
    '@timestamp': new Date(start + i).toISOString(),
    'event.sequence': i,
    'service.name': i % 2 ? 'threadline-worker' : 'threadline-api',
    'log.level': 'info',
    correlation_id: flow,
    message: `line ${i}`,
  }));

describe('a trace has a bound', () => {
  const client = new Client({ node: ELASTICSEARCH_URL });
  const stack = new TestStack({
    LOG_DATA_STREAM: STREAM,
    LOG_SHIPPING: 'false',
    TRACE_DEFAULT_LIMIT: String(DEFAULT_LIMIT),
    TRACE_MAX_LIMIT: String(MAX_LIMIT),
  });
  const long = `bounds-long-${randomUUID()}`;
  const exact = `bounds-exact-${randomUUID()}`;
  const start = Date.now() - 60_000;
  const trace = (id: string, query = ''): Promise<{ status: number; body: Trace }> =>
    stack.request<Trace>('GET', `/api/v1/traces/${id}${query}`);

  beforeAll(async () => {
    await seedStream(client, STREAM, [
      ...flowLines(long, LONG, start),
      ...flowLines(exact, MAX_LIMIT, start),
    ]);
    await stack.startApi();
  });
  afterAll(async () => {
    await stack.stop();
    await client.close();
  });

  it('answers a long flow with its first TRACE_DEFAULT_LIMIT lines, marked truncated', async () => {
    const reply = await trace(long);
    expect(reply.status).toBe(200);
    expect(reply.body.truncated).toBe(true);
    expect(reply.body.summary.lines).toBe(DEFAULT_LIMIT);
    expect(reply.body.lines.map((l) => l['event.sequence'])).toEqual(
      Array.from({ length: DEFAULT_LIMIT }, (_, i) => i),
    );
  });

  it('gives up to TRACE_MAX_LIMIT lines on request, and truncated: false when nothing is left out', async () => {
    const most = await trace(long, `?limit=${MAX_LIMIT}`);
    expect([most.status, most.body.truncated, most.body.lines.length]).toEqual([
      200,
      true,
      MAX_LIMIT,
    ]);
    const whole = await trace(exact, `?limit=${MAX_LIMIT}`);
    expect([whole.status, whole.body.truncated, whole.body.lines.length]).toEqual([
      200,
      false,
      MAX_LIMIT,
    ]);
    // The rest of a cut flow is a narrower window away.
    const after = encodeURIComponent(most.body.lines.at(-1)?.['@timestamp'] ?? '');
    const rest = await trace(long, `?limit=${MAX_LIMIT}&since=${after}`);
    expect(rest.body.truncated).toBe(false);
    expect(rest.body.lines.map((l) => l['event.sequence'])).toEqual(
      Array.from({ length: LONG - MAX_LIMIT + 1 }, (_, i) => MAX_LIMIT - 1 + i),
    );
  });

  it('answers 400 for a limit above TRACE_MAX_LIMIT, naming it, and for a malformed one', async () => {
    const above = await stack.request<Problem>(
      'GET',
      `/api/v1/traces/${long}?limit=${MAX_LIMIT + 1}`,
    );
    expect(above.status).toBe(400);
    expect(above.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(above.body.detail).toContain(`at most ${MAX_LIMIT} lines (TRACE_MAX_LIMIT)`);
    for (const bad of ['0', '-3', '2.5', 'ten', '', '1e3']) {
      const reply = await stack.request<Problem>('GET', `/api/v1/traces/${long}?limit=${bad}`);
      expect([bad, reply.status, reply.body.title]).toEqual([bad, 400, 'Invalid limit']);
    }
  });

  it('says in the CLI what a cut trace left out, and refuses a --limit above its own maximum', () => {
    const table = threadline('trace', long, '--limit', '5');
    expect(table.status).toBe(0);
    expect(table.stdout.trim().split('\n').at(-1)).toBe(
      'showing the first 5 of more lines; narrow with --since/--until or raise --limit up to 100000',
    );
    expect(table.stdout).toContain(
      `Flow of ${long} (found as correlation_id) · first 5 lines (cut)`,
    );

    const json = threadline('trace', long, '--limit', '5', '--format', 'json');
    expect(json.status).toBe(0);
    const cut = JSON.parse(json.stdout) as Trace;
    expect([cut.truncated, cut.lines.length]).toEqual([true, 5]);
    expect(json.stderr).toContain('showing the first 5 of more lines');

    const whole = threadline('trace', exact, '--format', 'json');
    expect((JSON.parse(whole.stdout) as Trace).truncated).toBe(false);
    expect(whole.stderr).toBe('');

    const above = threadline('trace', long, '--limit', '100001');
    expect(above.status).toBe(2);
    expect(above.stderr).toContain('--limit may be at most 100000 lines');
  });
});
