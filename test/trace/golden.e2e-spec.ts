// threadline trace on fixed flows in a data stream of their own: a recorded real flow (a
// retried task and a batch with two children, through nginx, the API and the worker) whose
// printout is reviewed and kept in test/fixtures, and a 25,000-line flow read whole, in order,
// when --limit asks for it, and cut at the CLI's default of 10,000 lines when it does not.
import { Client } from '@elastic/elasticsearch';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ELASTICSEARCH_URL, repoRoot } from '../support/services';

const STREAM = 'logs-threadline-golden';
const FIXTURES = join(repoRoot, 'test', 'fixtures');
const BIG_FLOW = 'golden-25k';
const BIG = 25_000;

function threadline(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(
    process.execPath,
    [join(repoRoot, 'dist', 'cli', 'threadline.js'), ...args],
    {
      env: { PATH: process.env.PATH ?? '', ELASTICSEARCH_URL, LOG_DATA_STREAM: STREAM },
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      timeout: 120_000,
    },
  );
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Loads documents with fixed ids: a second run finds them there (409) and changes nothing. */
async function load(
  client: Client,
  docs: { id: string; doc: Record<string, unknown> }[],
): Promise<void> {
  for (let i = 0; i < docs.length; i += 5000) {
    const operations = docs
      .slice(i, i + 5000)
      .flatMap(({ id, doc }) => [{ create: { _id: id } }, doc]);
    const result = await client.bulk({ index: STREAM, operations });
    const refused = result.items.filter(
      (item) => item.create?.status !== 201 && item.create?.status !== 409,
    );
    if (refused.length > 0) throw new Error(`bulk refused: ${JSON.stringify(refused[0])}`);
  }
  await client.indices.refresh({ index: STREAM });
}

describe('threadline trace on fixed flows', () => {
  const client = new Client({ node: ELASTICSEARCH_URL });

  beforeAll(async () => {
    const setup = spawnSync(process.execPath, [join(repoRoot, 'dist', 'es-setup.js')], {
      env: { PATH: process.env.PATH ?? '', ELASTICSEARCH_URL, LOG_DATA_STREAM: STREAM },
      encoding: 'utf8',
    });
    if (setup.status !== 0) throw new Error(`es-setup: ${setup.stderr}`);
    const recorded = readFileSync(join(FIXTURES, 'golden-flow.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((line, i) => ({
        id: `golden-flow-1-${i}`,
        doc: JSON.parse(line) as Record<string, unknown>,
      }));
    const start = Date.parse('2026-01-01T00:00:00.000Z');
    const big = Array.from({ length: BIG }, (_, i) => ({
      id: `${BIG_FLOW}-${i}`,
      doc: {
        // Four lines per millisecond: the order within one is the writer's sequence.
        '@timestamp': new Date(start + Math.floor(i / 4)).toISOString(),
        'event.sequence': i,
        'service.name': i % 2 ? 'threadline-worker' : 'threadline-api',
        'log.level': 'info',
        correlation_id: BIG_FLOW,
        message: `line ${i}`,
      },
    }));
    await load(client, [...recorded, ...big]);
  });
  afterAll(() => client.close());

  it('prints a recorded flow exactly as reviewed', () => {
    const run = threadline('trace', 'golden-flow-1');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(readFileSync(join(FIXTURES, 'golden-trace.txt'), 'utf8'));
  });

  it(`reads a ${BIG.toLocaleString('en')}-line flow whole, in order`, () => {
    const run = threadline('trace', BIG_FLOW, '--format', 'ndjson', '--limit', String(BIG));
    expect(run.status).toBe(0);
    const sequence = run.stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { 'event.sequence': number })['event.sequence']);
    expect(sequence).toHaveLength(BIG);
    expect(sequence).toEqual(Array.from({ length: BIG }, (_, i) => i));
  });

  it('shows the first 10,000 lines of it without --limit, and says so', () => {
    const run = threadline('trace', BIG_FLOW, '--format', 'ndjson');
    expect(run.status).toBe(0);
    const sequence = run.stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { 'event.sequence': number })['event.sequence']);
    expect(sequence).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(run.stderr.trim()).toBe(
      'showing the first 10000 of more lines; narrow with --since/--until or raise --limit up to 100000',
    );
  });
});
