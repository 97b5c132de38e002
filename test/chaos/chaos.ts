// What the fault-injection scenarios share: their size, the task store's own record of each
// task (read from Redis, not from the API under test), the log-line accounting between the
// processes' stdout and Elasticsearch, and the summary row each scenario adds to the table
// printed at the end of the run (test/chaos/summary-reporter.cjs).
import { Client } from '@elastic/elasticsearch';
import { randomInt } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis, { type Cluster } from 'ioredis';
import { allDocs, type LogDoc } from '../support/log-search';
import { ELASTICSEARCH_URL, eventually, repoRoot } from '../support/services';
import { TEST_DATA_STREAM, type RunningProcess, type TestStack } from '../support/stack';

/** `npm run test:chaos` runs the full sizes; `npm test` (CI) the small ones. */
export const FULL = process.env.CHAOS_SCALE === 'full';
export const scaled = (full: number, small: number): number => (FULL ? full : small);

export const SUMMARY_FILE = join(repoRoot, 'test-artifacts', 'chaos-summary.ndjson');

export interface ScenarioRow {
  scenario: string;
  load: string;
  faults: string;
  tasks?: { accepted: number; completed: number; lost: number; duplicated: number };
  lines?: { written: number; indexed: number; lost: number; doubled: number };
}

export function recordScenario(row: ScenarioRow): void {
  mkdirSync(join(repoRoot, 'test-artifacts'), { recursive: true });
  appendFileSync(SUMMARY_FILE, `${JSON.stringify(row)}\n`);
}

/** One task as BullMQ keeps it: its state and how often it started, stalled and finished. */
export interface StoredTask {
  id: string;
  state: 'completed' | 'failed' | 'other';
  /** Runs started (BullMQ's attemptsStarted). */
  started: number;
  /** Times a worker died (or lost its lock) with the task in hand (stalledCounter). */
  stalled: number;
}

/** Where a task's keys are: one prefix for all, or each task's shard's (TestStack.prefixOfTask). */
export type TaskPrefix = string | ((id: string) => string);

/**
 * Reads each task's record from Redis: the queues' completed and failed sets, the job hash.
 * One pipeline per prefix: on a cluster, a pipeline's keys share one slot.
 */
export async function storedTasks(
  redis: Redis | Cluster,
  prefix: TaskPrefix,
  queue: string,
  ids: string[],
): Promise<StoredTask[]> {
  const prefixOf = typeof prefix === 'string' ? () => prefix : prefix;
  const byPrefix = new Map<string, string[]>();
  for (const id of ids) byPrefix.set(prefixOf(id), [...(byPrefix.get(prefixOf(id)) ?? []), id]);
  const records = new Map<string, StoredTask>();
  for (const [shard, shardIds] of byPrefix) {
    const pipeline = redis.pipeline();
    for (const id of shardIds) {
      pipeline.hmget(`${shard}:${queue}:${id}`, 'ats', 'stc');
      pipeline.zscore(`${shard}:${queue}:completed`, id);
      pipeline.zscore(`${shard}:${queue}:failed`, id);
    }
    const replies = (await pipeline.exec()) ?? [];
    shardIds.forEach((id, i) => {
      const [ats, stc] = replies[3 * i]?.[1] as (string | null)[];
      const completed = replies[3 * i + 1]?.[1] !== null;
      const failed = replies[3 * i + 2]?.[1] !== null;
      records.set(id, {
        id,
        state: completed ? 'completed' : failed ? 'failed' : 'other',
        started: Number(ats ?? 0),
        stalled: Number(stc ?? 0),
      });
    });
  }
  return ids.map((id) => records.get(id) as StoredTask);
}

/** Waits until every one of `ids` has completed or failed in Redis; returns their records. */
export function untilFinished(
  redisUrl: string | (() => Redis | Cluster),
  prefix: TaskPrefix,
  ids: string[],
  limitMs = 300_000,
): Promise<StoredTask[]> {
  // One connection for the whole wait, not one per poll.
  const redis = typeof redisUrl === 'string' ? new Redis(redisUrl) : redisUrl();
  return eventually(
    async () => {
      const stored = await storedTasks(redis, prefix, 'medium', ids);
      return stored.every((t) => t.state !== 'other') ? stored : undefined;
    },
    'every accepted task to finish',
    limitMs,
  ).finally(() => redis.disconnect());
}

/** The task columns of a summary row: `finished` are the records of the accepted tasks. */
export function taskCounts(finished: StoredTask[]): NonNullable<ScenarioRow['tasks']> {
  const completed = finished.filter((t) => t.state === 'completed').length;
  return {
    accepted: finished.length,
    completed,
    lost: finished.length - completed,
    duplicated: finished.filter((t) => t.started > 1).length,
  };
}

/** Tasks that ran more than once without a worker dying with them in hand. */
export const unexplainedReruns = (tasks: StoredTask[]): StoredTask[] =>
  tasks.filter((t) => t.started - 1 > t.stalled);

const key = (doc: LogDoc): string =>
  JSON.stringify([
    doc['process.pid'],
    doc['@timestamp'],
    doc['event.action'] ?? null,
    doc.task_id ?? null,
    doc.message,
  ]);

/**
 * Compares the lines `processes` wrote to stdout (whole lines only) with what Elasticsearch
 * holds from them, once it holds at least as many: lost are stdout lines it lacks, doubled are
 * lines it holds more often than stdout shows them.
 */
export async function accountLines(
  processes: RunningProcess[],
  since: Date,
  elasticsearchUrl = ELASTICSEARCH_URL,
  stream = TEST_DATA_STREAM,
): Promise<{
  counts: NonNullable<ScenarioRow['lines']>;
  /** Up to five of the lost lines, for the failure message. */
  missing: LogDoc[];
}> {
  // Whole lines only, and from `since` on, as the search below.
  const stdoutLines = (): LogDoc[] =>
    processes.flatMap((p) => {
      const text = p.stdout();
      return text
        .slice(0, text.lastIndexOf('\n') + 1)
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as LogDoc)
        .filter((line) => Date.parse(String(line['@timestamp'])) >= since.getTime());
    });
  const written = stdoutLines();
  const client = new Client({ node: elasticsearchUrl });
  const query = {
    bool: {
      filter: [
        { terms: { 'process.pid': processes.map((p) => p.pid) } },
        { range: { '@timestamp': { gte: since.toISOString() } } },
      ],
    },
  };
  try {
    const indexed = await eventually(
      async () => {
        const docs = await allDocs(client, stream, query);
        return docs.length >= written.length ? docs : undefined;
      },
      `Elasticsearch to hold the ${written.length} lines on stdout`,
      180_000,
    ).catch(() => allDocs(client, stream, query));
    const tally = (docs: LogDoc[]): Map<string, number> => {
      const counts = new Map<string, number>();
      for (const doc of docs) counts.set(key(doc), (counts.get(key(doc)) ?? 0) + 1);
      return counts;
    };
    const stored = tally(indexed);
    const missing = written.filter((line) => {
      const left = stored.get(key(line)) ?? 0;
      stored.set(key(line), left - 1);
      return left === 0;
    });
    // Doubled: held more often than stdout shows, stdout read again now, since processes still
    // running kept writing (and shipping) while Elasticsearch was searched.
    const shown = tally(stdoutLines());
    let doubled = 0;
    for (const [lineKey, n] of tally(indexed))
      doubled += Math.max(0, n - (shown.get(lineKey) ?? 0));
    return {
      counts: { written: written.length, indexed: indexed.length, lost: missing.length, doubled },
      missing: missing.slice(0, 5),
    };
  } finally {
    await client.close();
  }
}

/**
 * `count` workers of `stack`; every `everyMs`, one of them at random gets `signal` and a
 * replacement is started (at once, so that a worker finishing its tasks does not leave a gap).
 */
export class RotatingWorkers {
  /** Every process started, the stopped ones included, for their log lines. */
  readonly everyProcess: RunningProcess[] = [];
  /** How each signalled worker exited: its code, or the signal's name. */
  readonly exits: (number | string)[] = [];
  private readonly live: RunningProcess[] = [];
  private rotating = true;
  private loop: Promise<void> = Promise.resolve();

  private constructor(private readonly stack: TestStack) {}

  static async start(
    stack: TestStack,
    count: number,
    signal: NodeJS.Signals,
    everyMs: number,
  ): Promise<RotatingWorkers> {
    const pool = new RotatingWorkers(stack);
    for (let i = 0; i < count; i++) pool.add(await stack.startWorker());
    pool.loop = pool.rotate(signal, everyMs);
    return pool;
  }

  /** Stops the rotation (the workers keep running) and waits for a rotation under way. */
  async stop(): Promise<void> {
    this.rotating = false;
    await this.loop;
  }

  private add(worker: RunningProcess): void {
    this.live.push(worker);
    this.everyProcess.push(worker);
  }

  private async rotate(signal: NodeJS.Signals, everyMs: number): Promise<void> {
    while (this.rotating) {
      await sleep(everyMs);
      if (!this.rotating) break;
      const leaving = this.live.splice(randomInt(this.live.length), 1)[0];
      leaving.kill(signal);
      this.add(await this.stack.startWorker());
      this.exits.push(await leaving.exited);
    }
  }
}

/** Fails unless every stdout line was indexed once: shows the first lines it lacks. */
export function expectEveryLineOnce(lines: Awaited<ReturnType<typeof accountLines>>): void {
  const { lost, doubled } = lines.counts;
  expect({ lost, doubled, missing: lines.missing }).toEqual({ lost: 0, doubled: 0, missing: [] });
}
