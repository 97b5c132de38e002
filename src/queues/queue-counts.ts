// Queue depths, per state, of every shard's queues, and their sums: GET /api/v1/queues.
import { TASK_QUEUES, type TaskQueue } from '../config/queue-names';
import type { QueueGroup } from './shard-queues';

/** Counts of tasks per state, as BullMQ keeps them. */
export type QueueCounts = Record<
  'waiting' | 'prioritized' | 'delayed' | 'waiting-children' | 'active' | 'completed' | 'failed',
  number
>;

/** The counts of every queue of one shard (or of the drained unsharded layout). */
export interface ShardCounts {
  /** The shard's key prefix (its hash tag on a cluster). */
  prefix: string;
  /** The shard's number; absent for the unsharded layout being drained. */
  shard?: number;
  /** Its counts; absent when it did not answer. */
  queues?: Record<TaskQueue, QueueCounts>;
  /** Why it did not answer (its master failing over, say). */
  unavailable?: string;
}

/** Task counts per queue and state, summed over the shards, and shard by shard. */
export interface AllCounts {
  queues: Record<TaskQueue, QueueCounts>;
  shards: ShardCounts[];
}

/**
 * The counts of `groups` (each served prefix's queues; `shardPrefixes` numbers the shards),
 * each group read through `read` (which bounds it in time). A group that does not answer (its
 * master failing over) is listed `unavailable`, without counts, and left out of the sums.
 * @throws the first group's error when no group answers
 */
export async function countShards(
  groups: readonly (readonly [string, QueueGroup])[],
  shardPrefixes: readonly string[],
  read: <T>(count: () => Promise<T>) => Promise<T>,
): Promise<AllCounts> {
  const outcomes = await Promise.allSettled(groups.map(([, group]) => read(() => countsOf(group))));
  if (outcomes.every((r) => r.status === 'rejected')) throw outcomes[0].reason;
  const shards = groups.map(([prefix], i): ShardCounts => {
    const shard = shardPrefixes.indexOf(prefix);
    const outcome = outcomes[i];
    return {
      prefix,
      ...(shard < 0 ? {} : { shard }),
      ...(outcome.status === 'fulfilled'
        ? { queues: outcome.value }
        : { unavailable: (outcome.reason as Error).message }),
    };
  });
  const answered = shards.flatMap((s) => (s.queues ? [s.queues] : []));
  const queues = Object.fromEntries(
    TASK_QUEUES.map((q) => [q, sumCounts(answered.map((counts) => counts[q]))]),
  ) as Record<TaskQueue, QueueCounts>;
  return { queues, shards };
}

const STATES = [
  'waiting',
  'prioritized',
  'delayed',
  'waiting-children',
  'active',
  'completed',
  'failed',
] as const satisfies readonly (keyof QueueCounts)[];

/** The counts of each queue of `group`. */
async function countsOf(group: QueueGroup): Promise<Record<TaskQueue, QueueCounts>> {
  const counts = await Promise.all(TASK_QUEUES.map((q) => group[q].getJobCounts(...STATES)));
  return Object.fromEntries(TASK_QUEUES.map((q, i) => [q, counts[i] as QueueCounts])) as Record<
    TaskQueue,
    QueueCounts
  >;
}

/** The state-by-state sum of `counts`. */
function sumCounts(counts: readonly QueueCounts[]): QueueCounts {
  const sum = Object.fromEntries(STATES.map((state) => [state, 0])) as QueueCounts;
  for (const each of counts) for (const state of STATES) sum[state] += each[state] ?? 0;
  return sum;
}
