import { InjectFlowProducer } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { FlowProducer, Job, type JobsOptions, type Queue } from 'bullmq';
import { AppConfig } from '../config/app-config';
import { flowContext } from '../context/flow-context';
import { encodeFlow } from '../context/job-meta.codec';
import { RedisRepository } from '../redis/redis.repository';
import type { NewTask, TaskEnvelope, TaskError, TaskSnapshot } from './task';
import { fairPriority } from './fair-priority';
import { type QueueCall, queueCall } from './queue-call';
import { type AllCounts, countShards } from './queue-counts';
import { ShardQueues } from './shard-queues';
import { toSnapshot } from './task-snapshot';
import { TASK_QUEUES, type TaskQueue } from '../config/queue-names';

export const FLOW_PRODUCER = 'tasks';

/** Outcome of a cancel request. */
export type CancelOutcome = 'cancelled' | 'not-found' | 'already-started' | 'child-of-flow';

/**
 * Threadline's one way to BullMQ: turns tasks into jobs and jobs back into tasks, so that
 * nothing else depends on BullMQ's types. Every call fails fast when Redis is down.
 * @see https://docs.bullmq.io/
 */
@Injectable()
export class TaskQueueRepository {
  private readonly logger = new Logger('queues');

  constructor(
    private readonly queues: ShardQueues,
    @InjectFlowProducer(FLOW_PRODUCER) private readonly flows: FlowProducer,
    private readonly redis: RedisRepository,
    private readonly config: AppConfig,
  ) {
    // Connection errors also reach callers as 503s; log each new one once, not per retry.
    let last = '';
    const report = (error: Error): void => {
      if (error.message !== last) this.logger.warn(`Redis: ${error.message}`);
      last = error.message;
    };
    for (const queue of queues.all()) queue.on('error', report);
    flows.on('error', report);
  }

  /** Queues one task. Resolves only once Redis holds it (and REDIS_WAIT_REPLICAS replicas). */
  async add(task: NewTask): Promise<void> {
    await this.redis.run(() =>
      this.queues.ofTask(task.id)[task.queue].add(task.type, envelope(task), this.jobOptions(task)),
    );
    await this.redis.replicated(this.slotKey(this.config.shards.prefixOfTask(task.id)));
  }

  /**
   * The insert of one task as a Lua call (QueueCall), for a script that also claims what the
   * submission needs, in the same round trip (src/tasks/submit-script.ts). The job is the one
   * {@link add} queues, its priority set by the script from the client's place in the fair
   * rotation (`rank`, found there). The script runs under the task's shard's key prefix, so on
   * a cluster its keys share that shard's hash slot.
   */
  async addCall(task: NewTask): Promise<QueueCall> {
    const queue = this.queues.ofTask(task.id)[task.queue];
    const opts = {
      ...queue.defaultJobOptions,
      ...this.jobOptions(task),
      // The client's own priority: queueTask turns it into fairPriority(priority, rank).
      priority: task.priority,
    };
    const job = new Job<TaskEnvelope>(queue, task.type, envelope(task), opts, task.id);
    return queueCall((transaction) => job.addJob(transaction));
  }

  /**
   * Queues a parent and its children as one BullMQ flow: the parent runs after them all. The
   * flow goes to the parent's shard; the children's ids must be placed on it too.
   */
  async addFlow(parent: NewTask, children: readonly NewTask[]): Promise<void> {
    const prefix = this.config.shards.prefixOfTask(parent.id);
    const elsewhere = children.find(
      (child) => this.config.shards.prefixOfTask(child.id) !== prefix,
    );
    if (elsewhere) throw new Error(`child task ${elsewhere.id} is not on its parent's shard`);
    await this.redis.run(() =>
      this.flows.add({
        name: parent.type,
        queueName: parent.queue,
        prefix,
        data: envelope(parent),
        opts: this.jobOptions(parent),
        children: children.map((child) => ({
          name: child.type,
          queueName: child.queue,
          prefix,
          data: envelope(child),
          opts: { ...this.jobOptions(child), failParentOnFailure: true },
        })),
      }),
    );
    await this.redis.replicated(this.slotKey(prefix));
  }

  /** A key in the hash slot of the shard under `prefix`, for WAIT to reach its master. */
  private slotKey(prefix: string): string {
    return `${prefix}:workers`;
  }

  /**
   * The task with this id, in whichever queue of its shard holds it (or, while the unsharded
   * layout is drained, of that layout).
   */
  async find(id: string): Promise<TaskSnapshot | undefined> {
    return this.redis.run(async (client) => {
      for (const prefix of this.config.shards.lookupsOfTask(id)) {
        const job = await this.locate(prefix, id);
        if (job) {
          const queue = job.queueName as TaskQueue;
          const state = await job.getState();
          if (state === 'unknown') return undefined; // removed between the two reads
          if (state !== 'completed' && state !== 'failed') return this.snapshot(job, queue, state);
          // The task may have finished between reading it and reading its state: read it
          // again, now that it can no longer change, so the result or error goes with it.
          const final = await Job.fromId<TaskEnvelope>(this.queues.of(prefix)[queue], id);
          return this.snapshot(final ?? job, queue, state);
        }
        const cancelled = await client.get(this.cancelledKey(prefix, id));
        if (cancelled) return JSON.parse(cancelled) as TaskSnapshot;
      }
      return undefined;
    });
  }

  /**
   * Cancels a task that has not started. The cancelled task is remembered as long as a result
   * would be, so that polling it answers `cancelled` rather than 404.
   */
  async cancel(id: string): Promise<CancelOutcome> {
    return this.endUnstarted(id, (task) => ({ ...task, status: 'cancelled' }));
  }

  /**
   * Fails a task that waited too long for a worker (TASK_MAX_WAIT_S), with its children; it is
   * remembered as a failure with `error` for as long as a result would be.
   */
  async expire(id: string, error: TaskError): Promise<CancelOutcome> {
    return this.endUnstarted(id, (task) => ({ ...task, status: 'failed', error }));
  }

  /** Drops a finished task's input from Redis: nothing reads it again. */
  async dropInput(id: string): Promise<void> {
    await this.redis.run(async () => {
      const job = (await this.locateAnywhere(id))?.job;
      if (job?.data?.input != null) await job.updateData({ ...job.data, input: null });
    });
  }

  /** Ends a task that no worker has taken, recording how it ended (`end`) in its place. */
  private async endUnstarted(
    id: string,
    end: (task: TaskSnapshot) => TaskSnapshot,
  ): Promise<CancelOutcome> {
    return this.redis.run(async (client) => {
      const found = await this.locateAnywhere(id);
      if (!found) return 'not-found';
      const { job, prefix } = found;
      // A child's result belongs to its parent: ending it alone would skew the parent's.
      if (job.parentKey) return 'child-of-flow';
      const state = await job.getState();
      if (!['waiting', 'prioritized', 'delayed', 'waiting-children'].includes(state))
        return 'already-started';
      const record: TaskSnapshot = end({
        ...this.snapshot(job, job.queueName as TaskQueue, state),
        finished_at: new Date().toISOString(),
      });
      // Record first: if the removal then fails because a worker took the task, undo it.
      await client.set(
        this.cancelledKey(prefix, id),
        JSON.stringify(record),
        'EX',
        this.config.RESULT_TTL_S,
      );
      try {
        await job.remove({ removeChildren: true });
      } catch (error) {
        await client.del(this.cancelledKey(prefix, id));
        // BullMQ refuses to remove a job (or a child of it) that a worker holds locked.
        if (/locked|could not be removed/i.test((error as Error).message)) return 'already-started';
        throw error;
      }
      return 'cancelled';
    });
  }

  /** Every shard's BullMQ queues, for the dashboard. */
  allQueues(): Queue[] {
    return this.queues.all();
  }

  /**
   * Task counts per queue and state: summed over the shards, and shard by shard (see
   * queue-counts.ts: a shard that does not answer is listed unavailable).
   * @throws RedisUnavailableError when no shard answers
   */
  async counts(): Promise<AllCounts> {
    return countShards(this.queues.entries(), this.config.shards.prefixes, (read) =>
      this.redis.run(read),
    );
  }

  /** The job with this id under `prefix`, in whichever queue holds it (ids are unique). */
  private async locate(prefix: string, id: string): Promise<Job<TaskEnvelope> | undefined> {
    const group = this.queues.of(prefix);
    const jobs = await Promise.all(TASK_QUEUES.map((q) => Job.fromId<TaskEnvelope>(group[q], id)));
    return jobs.find((j): j is Job<TaskEnvelope> => j !== undefined);
  }

  /** The job with this id on its shard (or the drained layout), with the prefix it is under. */
  private async locateAnywhere(
    id: string,
  ): Promise<{ job: Job<TaskEnvelope>; prefix: string } | undefined> {
    for (const prefix of this.config.shards.lookupsOfTask(id)) {
      const job = await this.locate(prefix, id);
      if (job) return { job, prefix };
    }
    return undefined;
  }

  /** Where a task that ended before it started (cancelled, expired) is remembered. */
  private cancelledKey(prefix: string, id: string): string {
    return `${prefix}:cancelled:${id}`;
  }

  private jobOptions(task: NewTask): JobsOptions {
    return {
      jobId: task.id,
      timestamp: task.createdAt,
      priority: fairPriority(task.priority, task.rank ?? 0),
      attempts: this.config.TASK_ATTEMPTS,
      backoff: { type: 'exponential', delay: this.config.TASK_BACKOFF_MS },
      removeOnComplete: { age: this.config.RESULT_TTL_S },
      removeOnFail: { age: this.config.RESULT_TTL_S },
    };
  }

  private snapshot(job: Job<TaskEnvelope>, queue: TaskQueue, state: string): TaskSnapshot {
    return toSnapshot(job, queue, state, this.config.TASK_ATTEMPTS);
  }
}

/** The job's data: the input, and apart from it the flow it belongs to. */
function envelope(task: NewTask): TaskEnvelope {
  return {
    input: task.input,
    meta: {
      ...encodeFlow(flowContext.get()),
      ...(task.client === undefined ? {} : { client: task.client }),
      priority: task.priority,
      ...(task.children === undefined ? {} : { children: task.children }),
      submitted_at: new Date(task.createdAt).toISOString(),
      ...(task.index === undefined ? {} : { index: task.index }),
    },
  };
}
