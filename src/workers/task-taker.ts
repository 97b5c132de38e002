import { Job, type JobJson, type JobsOptions, raw2NextJobData, type Worker } from 'bullmq';
import {
  FINISH_AND_TAKE_LUA,
  finishAndTakeCall,
  PEEK_LUA,
  type ScriptValue,
  type TakerScript,
  takerScript,
} from '../queues/queue-scripts';
import type { TaskEnvelope } from '../queues/task';
import type { RedisClient } from '../redis/redis-client';

const COMMAND = 'threadlineFinishAndTake';
const PEEK = 'threadlinePeek';

/** The connection, with the scripts defined on it (ioredis sends EVALSHA, EVAL on NOSCRIPT). */
type Scripted = RedisClient & {
  [COMMAND](...call: (TakerScript | ScriptValue)[]): Promise<unknown>;
  [PEEK](...call: string[]): Promise<number>;
};

/** BullMQ's own builder of moveToFinished's keys and arguments (protected in its types). */
interface FinishArgsBuilder {
  moveToFinishedArgs(
    job: Job<TaskEnvelope>,
    value: string,
    property: 'returnvalue',
    shouldRemove: JobsOptions['removeOnComplete'],
    target: 'completed',
    token: string,
    timestamp: number,
    fetchNext: boolean,
    fieldsToUpdate?: Record<string, string>,
  ): ScriptValue[];
}

type Reply = [number, string[]?, string?];

/**
 * How a worker process takes its tasks and records their completion: one script call
 * (queue-scripts.ts) completes a task, drops its input and takes the slot's next task from the
 * first non-empty queue it serves, in strict priority order, through the queues' BullMQ
 * workers in manual mode, which own the locks and the stalled-job checks. A slot that keeps
 * finding work makes one round trip per task, as a plain BullMQ worker does with fetch-next.
 * @see docs/queues.md
 */
export class TaskTaker {
  private readonly connection: Scripted;
  /** Each served queue's worker and its place (1-based) in priority order. */
  private readonly byQueue: Map<string, { worker: Worker<TaskEnvelope>; place: number }>;
  private readonly script: TakerScript;

  /**
   * @param workers one BullMQ worker per served queue, in priority order, all on `connection`
   * @param lock the lock each task is taken with: its length and the worker's name
   */
  constructor(
    connection: RedisClient,
    private readonly workers: readonly Worker<TaskEnvelope>[],
    lock: { ms: number; workerName: string },
  ) {
    connection.defineCommand(COMMAND, { lua: FINISH_AND_TAKE_LUA });
    connection.defineCommand(PEEK, { lua: PEEK_LUA, numberOfKeys: 1 });
    this.connection = connection as Scripted;
    this.byQueue = new Map(workers.map((worker, i) => [worker.name, { worker, place: i + 1 }]));
    this.script = takerScript(
      workers.map((w) => w.keys),
      lock,
    );
  }

  /**
   * The first task in priority order, locked with `token`, from the first `upTo` served queues
   * (all by default); undefined when there is none.
   */
  async take(token: string, upTo?: number): Promise<Job<TaskEnvelope> | undefined> {
    const reply = await this.call(finishAndTakeCall(this.script, Date.now(), token, { upTo }));
    return this.taken(reply, token);
  }

  /**
   * The first served queue (1-based, in priority order) with a task ready to take (or a
   * retry due), or 0: a look that takes nothing, for a worker choosing between shards.
   */
  async peek(): Promise<number> {
    const prefixes = this.workers.map((w) => w.keys['']);
    return this.connection[PEEK](this.script[1], String(Date.now()), ...prefixes);
  }

  /**
   * Records that `job`, held with `token`, completed with `result`, drops its input (its
   * envelope keeps `input: null`), and, when `nextToken` is given, takes the next task in
   * priority order from the first `upTo` served queues (all by default), locked with it: all
   * in one atomic call, which takes nothing when the completion is refused.
   * @throws BullMQ's error for the code moveToFinished returned (lock lost, not active, …)
   */
  async complete(
    job: Job<TaskEnvelope>,
    token: string,
    result: unknown,
    nextToken?: string,
    upTo?: number,
  ): Promise<Job<TaskEnvelope> | undefined> {
    const served = this.byQueue.get(job.queueName);
    if (!served) throw new Error(`task ${job.id} is on queue ${job.queueName}, not served here`);
    const { worker, place } = served;
    const now = Date.now();
    const dropInput = job.data.input !== null;
    const finish = (worker.backend as unknown as FinishArgsBuilder).moveToFinishedArgs(
      job,
      // As Job.moveToCompleted: a result that cannot be stringified throws here.
      JSON.stringify(result),
      'returnvalue',
      job.opts.removeOnComplete,
      'completed',
      token,
      now,
      false,
      dropInput ? { data: JSON.stringify({ ...job.data, input: null }) } : undefined,
    );
    const reply = await this.call(
      finishAndTakeCall(this.script, now, nextToken ?? '', { finished: place, finish, upTo }),
    );
    if (reply[0] < 0) {
      throw worker.backend.finishedErrors({
        code: reply[0],
        jobId: job.id,
        command: 'moveToFinished',
        state: 'active',
      });
    }
    // What Job.moveToCompleted records on the job object.
    job.returnvalue = result || undefined;
    job.finishedOn = now;
    job.attemptsMade += 1;
    if (dropInput) job.data = { ...job.data, input: null };
    return nextToken === undefined ? undefined : this.taken(reply, nextToken);
  }

  private async call(call: (TakerScript | ScriptValue)[]): Promise<Reply> {
    return (await this.connection[COMMAND](...call)) as Reply;
  }

  private taken([queue, raw, id]: Reply, token: string): Job<TaskEnvelope> | undefined {
    const worker = this.workers[queue - 1];
    if (!worker || !raw) return undefined;
    const [json, jobId] = raw2NextJobData([raw, id, 0, 0]) as [JobJson, string];
    const job = Job.fromJSON<TaskEnvelope>(worker, json, jobId);
    job.token = token;
    return job;
  }
}
