import type { Job } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskEnvelope } from '../queues/task';
import type { RedisClient } from '../redis/redis-client';
import type { TaskTaker } from './task-taker';

/** One served key prefix (a shard, or the unsharded layout being drained), as a worker sees it. */
export interface ServedShard {
  /** The key prefix; the queues under it are named `<prefix>:<queue>`. */
  prefix: string;
  /** Takes and completes the tasks of this prefix's served queues, in priority order. */
  taker: TaskTaker;
  /** The BullMQ marker key of each served queue, which a new task wakes. */
  markers: readonly string[];
  /** A connection of its own, for the blocking wait on the markers. */
  blocking: RedisClient;
}

/**
 * How old a worker's view of the other shards may be when it takes a task: a `high` task
 * queued on any shard is taken before any `medium` one is, once it has waited this long.
 */
export const SHARD_VIEW_MS = 100;

/**
 * How long a look waits for a shard's answer: a shard whose master is failing over answers
 * only once its replica is promoted, and counts as empty meanwhile.
 */
const PEEK_WAIT_MS = 300;

/**
 * Tasks a slot takes from one shard in a row with their completions (one round trip each)
 * before it takes its next one in turn: without it, a busy slot would drain its shard's whole
 * class before another shard's tasks of that class. Costs one more call every SHARD_RUN tasks.
 */
export const SHARD_RUN = 8;

/**
 * A worker's take across shards, keeping the priority promise across them: no slot takes a
 * task of a lower class than the best one the worker has seen ready on any shard, and what it
 * has seen is at most {@link SHARD_VIEW_MS} old. Within a shard the order is strict, as one
 * script takes the first task of the first non-empty queue (TaskTaker).
 *
 * The view is each shard's best ready class, from one small script per shard run in parallel
 * (TaskTaker.peek): refreshed when it is older than SHARD_VIEW_MS, when a slot finds nothing,
 * and after a wake. A busy slot still makes one round trip per task: it completes its task
 * and takes the next from the same shard in one script, only from the classes at least as
 * high as the best seen elsewhere, at most SHARD_RUN in a row. Shards of equal best class take
 * turns.
 *
 * Idle slots wait on every shard's queue markers at once, with one blocking connection per
 * shard: a Redis Cluster will not block on keys of several hash slots in one command.
 * @see docs/queues.md#shards
 */
export class ShardedTaker {
  private readonly byPrefix: Map<string, number>;
  /** Each shard's best ready class (1-based), 0 for none, as last looked at. */
  private view: number[];
  private viewedAt = 0;
  private looking: Promise<void> | undefined;
  private turn = 0;
  private readonly waits: (Promise<void> | undefined)[];
  /** Each shard's look in flight: a slow shard is asked again only once it has answered. */
  private readonly peeks: (Promise<number> | undefined)[];
  /** How many tasks in a row a slot has taken from a task's shard, up to and with it. */
  private readonly runs = new WeakMap<Job<TaskEnvelope>, number>();

  constructor(
    private readonly shards: readonly ServedShard[],
    private readonly idleWaitS: number,
  ) {
    if (shards.length === 0) throw new Error('a worker serves at least one shard');
    this.byPrefix = new Map(shards.map((shard, i) => [shard.prefix, i]));
    this.view = shards.map(() => 0);
    this.waits = shards.map(() => undefined);
    this.peeks = shards.map(() => undefined);
  }

  /** The best task ready on any shard, locked with `token`; undefined when there is none. */
  async take(token: string): Promise<Job<TaskEnvelope> | undefined> {
    if (this.shards.length === 1) return this.shards[0].taker.take(token);
    for (let look = 0; look < 2; look++) {
      // The first look may be a recent one: when it shows nothing, or what it promised is
      // gone, look again before the slot goes to wait (a wake may have been spent already).
      await this.look(look > 0);
      const best = bestClass(this.view);
      if (best === 0) {
        if (look > 0) return undefined;
        continue;
      }
      for (const i of this.inTurn(best)) {
        const job = await this.shards[i].taker.take(token, best);
        if (job) return job;
        this.view[i] = 0;
      }
    }
    return undefined;
  }

  /**
   * Completes `job` (held with `token`) with `result` and, with `nextToken`, takes the next
   * task from its shard in the same script, of a class at least as high as the best seen on
   * the other shards; undefined when that shard has none (the slot then {@link take}s).
   */
  async complete(
    job: Job<TaskEnvelope>,
    token: string,
    result: unknown,
    nextToken?: string,
  ): Promise<Job<TaskEnvelope> | undefined> {
    const i = this.shardOf(job);
    const { taker } = this.shards[i];
    if (this.shards.length === 1) return taker.complete(job, token, result, nextToken);
    const run = this.runs.get(job) ?? 1;
    if (nextToken === undefined || run >= SHARD_RUN) return taker.complete(job, token, result);
    await this.look(false);
    const elsewhere = bestClass(this.view.filter((_, j) => j !== i));
    const next = await taker.complete(job, token, result, nextToken, elsewhere || undefined);
    if (next) this.runs.set(next, run + 1);
    return next;
  }

  /**
   * Blocks until a task is queued on any shard, or `idleWaitS` passes; shared by idle slots.
   * Each shard's wait goes on until it ends, so that a later call does not queue a second
   * blocking command behind it on the same connection.
   */
  async waitForWork(): Promise<void> {
    const waits = this.shards.map((shard, i) => {
      this.waits[i] ??= shard.blocking
        .bzpopmin(...shard.markers, this.idleWaitS)
        .then(
          () => undefined,
          () => sleep(this.idleWaitS * 1000),
        )
        .finally(() => {
          this.waits[i] = undefined;
        });
      return this.waits[i];
    });
    await Promise.race(waits);
    this.viewedAt = 0;
  }

  /** Ends every blocking wait at once (shutdown). */
  disconnect(): void {
    for (const shard of this.shards) shard.blocking.disconnect();
  }

  private shardOf(job: Job<TaskEnvelope>): number {
    const prefix = job.queueQualifiedName.slice(0, -(job.queueName.length + 1));
    const i = this.byPrefix.get(prefix);
    if (i === undefined) throw new Error(`task ${job.id} is under ${prefix}, not served here`);
    return i;
  }

  /** Refreshes the view when `now` is asked or it is older than SHARD_VIEW_MS (one at a time). */
  private async look(now: boolean): Promise<void> {
    if (!now && Date.now() - this.viewedAt < SHARD_VIEW_MS) return;
    this.looking ??= (async () => {
      try {
        this.view = await Promise.all(this.shards.map((_, i) => this.peek(i)));
        this.viewedAt = Date.now();
      } finally {
        this.looking = undefined;
      }
    })();
    await this.looking;
  }

  /**
   * Shard `i`'s best ready class; 0 when it cannot say within PEEK_WAIT_MS, and at once while
   * its last look is still unanswered (its master failing over), so that one dead shard does
   * not slow every look at the others.
   */
  private async peek(i: number): Promise<number> {
    if (this.peeks[i]) return 0;
    const asked = (this.peeks[i] = this.shards[i].taker
      .peek()
      .catch(() => 0)
      .finally(() => {
        this.peeks[i] = undefined;
      }));
    const timer = new AbortController();
    const late = sleep(PEEK_WAIT_MS, 0, { signal: timer.signal }).catch(() => 0);
    try {
      return Number(await Promise.race([asked, late]));
    } finally {
      timer.abort();
    }
  }

  /** The shards whose best class is `best`, starting with the next in turn. */
  private inTurn(best: number): number[] {
    const start = this.turn++ % this.shards.length;
    return this.shards
      .map((_, k) => (start + k) % this.shards.length)
      .filter((i) => this.view[i] === best);
  }
}

/** The highest class (lowest place) in `view`, 0 when every shard is empty. */
function bestClass(view: readonly number[]): number {
  const ready = view.filter((place) => place > 0);
  return ready.length === 0 ? 0 : Math.min(...ready);
}
