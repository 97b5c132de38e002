// Reads log lines back out of Elasticsearch, as the product's users would find them.
import { Client } from '@elastic/elasticsearch';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_STREAM_PATTERN, LogStreams } from '../../src/config/data-streams';
import { ELASTICSEARCH_URL, repoRoot } from './services';

export type LogDoc = Record<string, unknown>;

/**
 * What to search for `index`: for a LOG_DATA_STREAM name, every source's stream of it and its
 * own (as the trace search reads them); else `index` itself.
 */
function searched(index: string): string {
  return DATA_STREAM_PATTERN.test(index) ? new LogStreams(index).searched : index;
}

/**
 * Every document of `index` (a LOG_DATA_STREAM name: its streams) matching `query`, oldest
 * first (paged, so past 10,000 too).
 *
 * Pages through one point in time: without it, a page boundary moves when new lines arrive or
 * segments merge between two pages, and documents are skipped or read twice.
 * @see https://www.elastic.co/guide/en/elasticsearch/reference/8.19/paginate-search-results.html#search-after
 */
export async function allDocs(
  client: Client,
  index: string,
  query: Record<string, unknown> = { match_all: {} },
): Promise<LogDoc[]> {
  const streams = searched(index);
  await client.indices.refresh({ index: streams, ignore_unavailable: true });
  const pit = await client.openPointInTime({
    index: streams,
    keep_alive: '1m',
    ignore_unavailable: true,
  });
  const docs: LogDoc[] = [];
  let after: (string | number)[] | undefined;
  try {
    for (;;) {
      const page = await client.search<LogDoc>({
        pit: { id: pit.id, keep_alive: '1m' },
        query,
        size: 5000,
        // _shard_doc: a tiebreaker unique across shards and backing indices.
        sort: [{ '@timestamp': { order: 'asc' } }, { _shard_doc: { order: 'asc' } }],
        ...(after ? { search_after: after } : {}),
      });
      const hits = page.hits.hits;
      docs.push(...hits.map((hit) => hit._source ?? {}));
      if (hits.length < 5000) return docs;
      after = hits[hits.length - 1]?.sort as (string | number)[];
    }
  } finally {
    await client.closePointInTime({ id: pit.id }).catch(() => undefined);
  }
}

/** How many documents of `index` (a LOG_DATA_STREAM name: its streams) match `query`, after a refresh. */
export async function countDocs(
  client: Client,
  index: string,
  query: Record<string, unknown> = { match_all: {} },
): Promise<number> {
  const streams = searched(index);
  await client.indices.refresh({ index: streams, ignore_unavailable: true }, { ignore: [404] });
  const result = await client.count(
    { index: streams, query, ignore_unavailable: true },
    { ignore: [404] },
  );
  return result.count ?? 0;
}

/** The log lines waiting in a spool directory (every process's, adopted ones too). */
export function spooledLines(spoolDir: string): LogDoc[] {
  return readdirSync(spoolDir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ndjson') && !file.endsWith('dead-letter.ndjson'))
    .flatMap((file) =>
      readFileSync(join(spoolDir, file), 'utf8')
        .split('\n')
        .filter((line, i) => i % 2 === 1 && line !== '')
        .map((line) => JSON.parse(line) as LogDoc),
    );
}

/** A line's identity for comparing stdout with Elasticsearch: who wrote what, when. */
export const lineKey = (doc: LogDoc): string =>
  JSON.stringify([
    doc['service.name'] ?? (doc.service as LogDoc | undefined)?.name,
    doc['@timestamp'],
    doc.message,
    doc.request_id ?? null,
  ]);

/**
 * Installs the index template of LOG_DATA_STREAM `stream` (`dist/es-setup.js`, as
 * `npm run es:setup` does) and writes `docs` into its own stream, searchable at once: lines of
 * known shape for a test to read back.
 */
export async function seedStream(client: Client, stream: string, docs: LogDoc[]): Promise<void> {
  const setup = spawnSync(process.execPath, [join(repoRoot, 'dist', 'es-setup.js')], {
    env: { PATH: process.env.PATH ?? '', ELASTICSEARCH_URL, LOG_DATA_STREAM: stream },
    encoding: 'utf8',
  });
  if (setup.status !== 0) throw new Error(`es-setup: ${setup.stderr}`);
  const result = await client.bulk({
    index: stream,
    refresh: true,
    operations: docs.flatMap((doc) => [{ create: {} }, doc]),
  });
  if (result.errors) throw new Error(`bulk refused: ${JSON.stringify(result.items[0])}`);
}
