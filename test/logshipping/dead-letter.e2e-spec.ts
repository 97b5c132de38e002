// A line Elasticsearch refuses for good (a field of the wrong type for the template's
// mapping) goes to the dead-letter file with the reason and is counted; the rest of its batch
// is stored. The lines come from the product's own logger and transport, in a real process.
import { Client } from '@elastic/elasticsearch';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countDocs } from '../support/log-search';
import { ELASTICSEARCH_URL, eventually, repoRoot } from '../support/services';
import { TEST_DATA_STREAM } from '../support/stack';

/** A process that logs five lines in one batch, the third with task.attempt as a string. */
const WRITER = `
const { loadConfig } = require('./dist/config/load-config.js');
const { LogTransportHandle } = require('./dist/logging/log-transport-handle.js');
const { createLogger } = require('./dist/logging/logger.js');
const config = loadConfig();
const shipping = LogTransportHandle.start(config, 'threadline-worker');
shipping.ready.then(() => {
  const log = createLogger({ service: 'threadline-worker', level: 'info', destination: shipping.destination });
  const marker = process.env.MARKER;
  for (let n = 0; n < 5; n++) {
    const attempt = n === 2 ? 'the third' : n;
    log.info({ 'labels.marker': marker, 'task.attempt': attempt }, 'line ' + n);
  }
  // On exit the transport delivers what it holds; print the counters once it has.
  process.on('exit', () => process.stderr.write(JSON.stringify(shipping.status()) + '\\n'));
});
`;

describe('dead letters', () => {
  const client = new Client({ node: ELASTICSEARCH_URL });
  const spoolDir = mkdtempSync(join(tmpdir(), 'threadline-dead-letter-'));
  afterAll(async () => {
    await client.close();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  it('keeps a refused line with its reason, counts it, and stores the rest of the batch', async () => {
    const marker = randomUUID();
    const run = spawnSync(process.execPath, ['-e', WRITER], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '',
        MARKER: marker,
        ELASTICSEARCH_URL,
        LOG_DATA_STREAM: TEST_DATA_STREAM,
        LOG_SPOOL_DIR: spoolDir,
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(0);
    const status = JSON.parse(run.stderr.trim().split('\n').pop() ?? '{}') as Record<
      string,
      number
    >;
    expect(status.dead_lettered).toBe(1);

    const [record, ...more] = readFileSync(join(spoolDir, 'dead-letter.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            status: number;
            error: { type: string; reason: string };
            document: string;
          },
      );
    expect(more).toHaveLength(0);
    expect(record?.status).toBe(400);
    expect(record?.error.type).toMatch(/parsing_exception/);
    expect(record?.error.reason).toContain('task.attempt');
    expect(JSON.parse(record?.document ?? '{}')).toMatchObject({
      'labels.marker': marker,
      message: 'line 2',
    });

    const query = { term: { 'labels.marker': marker } };
    await eventually(
      async () => ((await countDocs(client, TEST_DATA_STREAM, query)) === 4 ? true : undefined),
      'the four good lines',
    );
    // The refusal is itself logged, and shipped: where to look is in Elasticsearch too.
    const notice = {
      bool: {
        filter: [
          { term: { 'event.action': 'log-line-dead-lettered' } },
          { match_phrase: { message: join(spoolDir, 'dead-letter.ndjson') } },
        ],
      },
    };
    await eventually(
      async () => ((await countDocs(client, TEST_DATA_STREAM, notice)) === 1 ? true : undefined),
      'the dead-letter notice',
    );
  });
});
