import { Job, type JobJson, raw2NextJobData, type Worker } from 'bullmq';
import { TAKE_KEY_NAMES, TAKE_LUA, takeArgs, takeKeys } from '../queues/queue-scripts';
import type { TaskEnvelope } from '../queues/task';
import type { RedisClient } from '../redis/redis-client';

const TAKE_COMMAND = 'threadlineTake';

/** The connection, with the script defined on it (ioredis sends EVALSHA, EVAL on NOSCRIPT). */
type Scripted = RedisClient & {
  [TAKE_COMMAND](numberOfKeys: number, ...keysThenArgs: string[]): Promise<unknown>;
};

/**
 * How a worker process takes its tasks: one script call takes the first task of the first
 * non-empty queue it serves, in strict priority order (queue-scripts.ts), through the queues'
 * BullMQ workers in manual mode, which own the locks and the stalled-job checks.
 * @see docs/queues.md
 */
export class TaskTaker {
  private readonly connection: Scripted;

  /**
   * @param workers one BullMQ worker per served queue, in priority order, all on `connection`
   * @param lock the lock each task is taken with: its length and the worker's name
   */
  constructor(
    connection: RedisClient,
    private readonly workers: readonly Worker<TaskEnvelope>[],
    private readonly lock: { ms: number; workerName: string },
  ) {
    connection.defineCommand(TAKE_COMMAND, { lua: TAKE_LUA });
    this.connection = connection as Scripted;
  }

  /** The first task in priority order, locked with `token`; undefined when there is none. */
  async take(token: string): Promise<Job<TaskEnvelope> | undefined> {
    const keys = this.workers.map((w) => w.keys);
    const reply = (await this.connection[TAKE_COMMAND](
      keys.length * TAKE_KEY_NAMES.length,
      ...takeKeys(keys),
      ...takeArgs(keys, { token, ...this.lock }),
    )) as [number, string[]?, string?];
    return this.taken(reply, token);
  }

  private taken(
    [queue, raw, id]: [number, string[]?, string?],
    token: string,
  ): Job<TaskEnvelope> | undefined {
    const worker = this.workers[queue - 1];
    if (!worker || !raw) return undefined;
    const [json, jobId] = raw2NextJobData([raw, id, 0, 0]) as [JobJson, string];
    const job = Job.fromJSON<TaskEnvelope>(worker, json, jobId);
    job.token = token;
    return job;
  }
}
