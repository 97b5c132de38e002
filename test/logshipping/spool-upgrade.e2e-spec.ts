// A process upgraded with lines still in its spool loses none: a folder an older Threadline
// left (spool version 1, whose entries are `_bulk` create actions) is adopted by a real
// process of this version and delivered with the ids it was first given, so that the lines
// the old process had already sent are not stored twice.
import { Client } from '@elastic/elasticsearch';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countDocs } from '../support/log-search';
import { ELASTICSEARCH_URL, eventually } from '../support/services';
import { SpoolWriter } from '../support/spool-writer';
import { TEST_DATA_STREAM } from '../support/stack';

const OLD_LINES = 30;
/** Lines the old process had delivered before it stopped: their resend must answer 409. */
const ALREADY_SENT = 5;

describe('a spool left by the previous version', () => {
  const client = new Client({ node: ELASTICSEARCH_URL });
  const root = mkdtempSync(join(tmpdir(), 'threadline-spool-upgrade-'));
  let writer: SpoolWriter | undefined;
  afterAll(async () => {
    await writer?.stop();
    await client.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('is delivered whole by the upgraded process, each line once, under its first id', async () => {
    const marker = randomUUID();
    const folder = 'lz9upgra-0123abcd';
    const ids = Array.from({ length: OLD_LINES }, (_, n) => `${folder}-${marker}-${n}`);
    const documents = ids.map((_, n) => ({
      '@timestamp': new Date().toISOString(),
      'log.level': 'info',
      message: `old line ${n}`,
      'service.name': 'threadline-worker',
      'labels.marker': marker,
      'labels.phase': 'old',
    }));
    mkdirSync(join(root, folder));
    writeFileSync(
      join(root, folder, 'spool.json'),
      JSON.stringify({ format: 'threadline-log-spool', version: 1 }),
    );
    const body = ids.map(
      (id, n) => `{"create":{"_id":"${id}"}}\n${JSON.stringify(documents[n])}\n`,
    );
    writeFileSync(join(root, folder, '0000000001.ndjson'), body.join(''));
    await client.bulk({
      index: TEST_DATA_STREAM,
      refresh: true,
      operations: ids
        .slice(0, ALREADY_SENT)
        .flatMap((id, n) => [{ create: { _id: id } }, documents[n]]),
    });

    writer = new SpoolWriter({
      ELASTICSEARCH_URL,
      LOG_DATA_STREAM: TEST_DATA_STREAM,
      LOG_SPOOL_DIR: root,
      MARKER: marker,
    });
    await writer.ready();
    writer.log('new', 3);
    const old = {
      bool: {
        filter: [{ term: { 'labels.marker': marker } }, { term: { 'labels.phase': 'old' } }],
      },
    };
    const all = { term: { 'labels.marker': marker } };
    await eventually(
      async () => (await countDocs(client, TEST_DATA_STREAM, all)) === OLD_LINES + 3 || undefined,
      'the old and the new lines',
    );
    expect(await countDocs(client, TEST_DATA_STREAM, old)).toBe(OLD_LINES);
    const found = await client.search({
      index: TEST_DATA_STREAM,
      query: old,
      size: OLD_LINES,
      _source: false,
    });
    expect(found.hits.hits.map((hit) => hit._id).sort()).toEqual([...ids].sort());
    // The lines the old process had sent were resent, and answered 409: not stored twice.
    const running = writer;
    const status = await eventually(async () => {
      const now = await running.status();
      return now.duplicates >= ALREADY_SENT ? now : undefined;
    }, 'the resent lines to be counted as duplicates');
    expect(status.dead_lettered).toBe(0);
    expect(writer.notices('log-spool-adopted')).toHaveLength(1);
    await writer.until(
      () =>
        readdirSync(root, { recursive: true, encoding: 'utf8' }).some((p) => p.includes(folder))
          ? undefined
          : true,
      'the delivered folder to be removed',
    );
  });
});
