import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { CLAIM, DROP_EXPIRED, type QuotaReply, RELEASE, SETTLE } from './quota-scripts';
import { RedisRepository, type ScriptCall } from '../redis/redis.repository';

/** What one submission holds against its client's quota until it finishes. */
export interface QuotaClaim {
  /** `key:<name>` or `addr:<address>`: see FlowContext.client. */
  client: string;
  /** The submitted task (a batch's parent): the claim is released by this id. */
  taskId: string;
  /** Tasks it queues: 1, or 1 + children for a batch. */
  tasks: number;
  /** Bytes of input it keeps in Redis. */
  bytes: number;
}

/** The quota a claim would pass. */
export type QuotaName = 'QUOTA_TASKS_PER_CLIENT' | 'QUOTA_BYTES_PER_CLIENT';

export type QuotaDecision =
  | {
      granted: true;
      /** The client's unfinished tasks before this claim: its place in the fair rotation. */
      backlog: number;
    }
  | {
      granted: false;
      quota: QuotaName;
      /** What the client holds on the shard that refused, and that shard's share of the limit. */
      used: number;
      limit: number;
      asked: number;
      /** The shards the quota is split over (REDIS_SHARDS), and the whole limit. */
      shards: number;
      overall: number;
    };

const RECHECK_MS = 10 * 60_000;

/**
 * What Redis keeps of a finished task besides its result, as the quota counts it: the job's
 * hash (metadata, timestamps, options), its place in the finished set, an idempotency record.
 */
export const TASK_RECORD_BYTES = 1024;

/**
 * Per-client quotas of unfinished tasks and of the bytes a client keeps in Redis, shared by
 * every API instance and worker. A submission claims its input's bytes and its tasks before it
 * is queued; when it ends (completed, failed, cancelled, expired) the claim is settled: its
 * tasks are given back and its bytes become what Redis keeps of it (result, record), until the
 * result expires. The workers' housekeeping sweep drops expired results' bytes and releases
 * claims whose task ended unseen (a killed worker), so nothing leaks quota for good.
 * @see docs/security.md#quotas
 */
@Injectable()
export class QuotaRepository {
  constructor(
    private readonly redis: RedisRepository,
    private readonly config: AppConfig,
  ) {}

  /**
   * With REDIS_SHARDS > 1 each shard holds a slice of every client's quota, the limit divided
   * by the shard count (rounded up), beside the tasks it counts, so that a submission claims
   * it in its shard's one round trip and a shard's outage leaves the others' slices usable.
   */
  get tasksPerShard(): number {
    return Math.ceil(this.config.QUOTA_TASKS_PER_CLIENT / this.config.shards.count);
  }

  /** The bytes limit of one shard's slice: see {@link tasksPerShard}. */
  get bytesPerShard(): number {
    return Math.ceil(this.config.QUOTA_BYTES_PER_CLIENT / this.config.shards.count);
  }

  async claim(claim: QuotaClaim): Promise<QuotaDecision> {
    const reply = (await this.redis.eval(CLAIM, this.claimCall(claim))) as QuotaReply;
    return this.decision(claim, reply);
  }

  /** The keys and arguments of `claimQuota` (CLAIM_QUOTA_LUA) for `claim`, in its order. */
  claimCall(claim: QuotaClaim): ScriptCall & { keys: [string, string] } {
    const prefix = this.config.shards.prefixOfTask(claim.taskId);
    return {
      keys: [this.keyOf(prefix, claim.client), this.checksKey(prefix)],
      args: [
        claim.taskId,
        claim.tasks,
        claim.bytes,
        this.tasksPerShard,
        this.bytesPerShard,
        claim.client,
        Date.now() + this.recheckMs,
      ],
    };
  }

  /** What `claimQuota`'s reply to `claim` means. */
  decision(claim: QuotaClaim, reply: QuotaReply): QuotaDecision {
    const [granted, refused, tasks, bytes] = reply;
    if (granted === 1) return { granted: true, backlog: tasks };
    return refused === 'tasks'
      ? {
          granted: false,
          quota: 'QUOTA_TASKS_PER_CLIENT',
          used: tasks,
          limit: this.tasksPerShard,
          asked: claim.tasks,
          shards: this.config.shards.count,
          overall: this.config.QUOTA_TASKS_PER_CLIENT,
        }
      : {
          granted: false,
          quota: 'QUOTA_BYTES_PER_CLIENT',
          used: bytes,
          limit: this.bytesPerShard,
          asked: claim.bytes,
          shards: this.config.shards.count,
          overall: this.config.QUOTA_BYTES_PER_CLIENT,
        };
  }

  /** Gives back what `taskId` holds of `client`'s quota; true when it held anything. */
  async release(client: string, taskId: string): Promise<boolean> {
    return this.onTaskShard(taskId, async (prefix) => {
      const released = await this.redis.eval(RELEASE, {
        keys: [this.keyOf(prefix, client), this.checksKey(prefix)],
        args: [taskId, client],
      });
      return released === 1;
    });
  }

  /** What a client holds now, on every shard. */
  async usage(client: string): Promise<{ tasks: number; bytes: number; claims: string[] }> {
    const shards = await this.redis.run((redis) =>
      Promise.all(
        this.config.shards.served.map((prefix) => redis.hgetall(this.keyOf(prefix, client))),
      ),
    );
    return {
      tasks: shards.reduce((sum, all) => sum + Number(all['#tasks'] ?? 0), 0),
      bytes: shards.reduce((sum, all) => sum + Number(all['#bytes'] ?? 0), 0),
      claims: shards.flatMap((all) => Object.keys(all).filter((field) => !field.startsWith('#'))),
    };
  }

  /**
   * A task has ended: its tasks no longer count, and its bytes become `kept.bytes` plus
   * `kept.bytesPerTask` for each of its tasks, what Redis keeps of it until its result expires
   * (RESULT_TTL_S after `now`), when the sweep gives them back.
   */
  async settle(
    client: string,
    taskId: string,
    kept: { bytes: number; bytesPerTask: number },
    now = Date.now(),
  ): Promise<boolean> {
    return this.onTaskShard(taskId, async (prefix) => {
      const settled = await this.redis.eval(SETTLE, {
        keys: [this.keyOf(prefix, client), this.checksKey(prefix)],
        args: [
          taskId,
          client,
          Math.ceil(kept.bytes),
          kept.bytesPerTask,
          now + this.config.RESULT_TTL_S * 1000,
        ],
      });
      return settled === 1;
    });
  }

  /**
   * Claims due for a check, oldest first, at most `limit`: the bytes of ended tasks whose
   * results have expired are given back here; the claims of tasks not known to have ended are
   * returned, for the sweep to release those whose task has ended and expire those queued too
   * long (see {@link recheckMs}). Each shard is looked at, `limit` claims at most from each;
   * a shard that cannot be asked (its master failing over) is left for the next sweep.
   * @throws the error of the first shard that failed, when every one did
   */
  async due(
    limit: number,
    now = Date.now(),
  ): Promise<{ dropped: number; open: { client: string; taskId: string }[] }> {
    const shards = await Promise.allSettled(
      this.config.shards.served.map(
        async (prefix) =>
          (await this.redis.eval(DROP_EXPIRED, {
            keys: [this.checksKey(prefix)],
            args: [now, limit, this.keyOf(prefix, '')],
          })) as [number, string[]],
      ),
    );
    const answered = shards.flatMap((shard) => (shard.status === 'fulfilled' ? [shard.value] : []));
    if (answered.length === 0) throw (shards[0] as PromiseRejectedResult).reason;
    return {
      dropped: answered.reduce((sum, [dropped]) => sum + dropped, 0),
      open: answered.flatMap(([, open]) =>
        open.map((member) => {
          const space = member.indexOf(' ');
          return { taskId: member.slice(0, space), client: member.slice(space + 1) };
        }),
      ),
    };
  }

  /** Looks at a claim again one {@link recheckMs} from now (its task is still running or queued). */
  async checkLater(client: string, taskId: string): Promise<void> {
    const member = `${taskId} ${client}`;
    await this.onTaskShard(taskId, (prefix) =>
      this.redis.run(
        async (redis) =>
          (await redis.zadd(
            this.checksKey(prefix),
            'XX',
            'CH',
            Date.now() + this.recheckMs,
            member,
          )) > 0,
      ),
    );
  }

  /**
   * Runs `change` on task `taskId`'s shard, and, while the unsharded layout is drained and the
   * shard held nothing of the task (`change` answered false), on that layout's keys.
   */
  private async onTaskShard(
    taskId: string,
    change: (prefix: string) => Promise<boolean>,
  ): Promise<boolean> {
    for (const prefix of this.config.shards.lookupsOfTask(taskId)) {
      if (await change(prefix)) return true;
    }
    return false;
  }

  /**
   * How long a claim goes unchecked: a release lost to a crash is found this late at most, and
   * a task queued past TASK_MAX_WAIT_S is expired at most this late. Default: the smaller of
   * 10 minutes and TASK_MAX_WAIT_S.
   */
  get recheckMs(): number {
    return Math.min(RECHECK_MS, this.config.TASK_MAX_WAIT_S * 1000);
  }

  private keyOf(prefix: string, client: string): string {
    return `${prefix}:quota:${client}`;
  }

  /** A shard's claims (`<task id> <client>`), scored by when the sweep should look at each next. */
  private checksKey(prefix: string): string {
    return `${prefix}:quota-checks`;
  }
}
