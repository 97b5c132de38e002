import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { RedisRepository } from '../redis/redis.repository';

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
  | { granted: false; quota: QuotaName; used: number; limit: number; asked: number };

const RECHECK_MS = 10 * 60_000;

// One hash per client: a field per unfinished submission ("tasks:bytes"), and the two totals;
// and one sorted set of every claim, scored by when the housekeeping sweep should check it.
// A claim is idempotent by task id, so that a retried submission never counts twice.
const CLAIM = `
local held = redis.call('HGET', KEYS[1], ARGV[1])
local tasks = tonumber(redis.call('HGET', KEYS[1], '#tasks') or '0')
local bytes = tonumber(redis.call('HGET', KEYS[1], '#bytes') or '0')
if held then return {1, '', tasks, bytes} end
local askTasks, askBytes = tonumber(ARGV[2]), tonumber(ARGV[3])
if tasks + askTasks > tonumber(ARGV[4]) then return {0, 'tasks', tasks, bytes} end
if bytes + askBytes > tonumber(ARGV[5]) then return {0, 'bytes', tasks, bytes} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. ARGV[3])
redis.call('HINCRBY', KEYS[1], '#tasks', askTasks)
redis.call('HINCRBY', KEYS[1], '#bytes', askBytes)
redis.call('ZADD', KEYS[2], ARGV[7], ARGV[1] .. ' ' .. ARGV[6])
return {1, '', tasks, bytes}
`;

// Releasing twice is harmless: only the first finds the field.
const RELEASE = `
local held = redis.call('HGET', KEYS[1], ARGV[1])
if not held then return 0 end
local sep = string.find(held, ':', 1, true)
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1] .. ' ' .. ARGV[2])
local tasks = redis.call('HINCRBY', KEYS[1], '#tasks', -tonumber(string.sub(held, 1, sep - 1)))
redis.call('HINCRBY', KEYS[1], '#bytes', -tonumber(string.sub(held, sep + 1)))
if tasks <= 0 then redis.call('DEL', KEYS[1]) end
return 1
`;

/**
 * Per-client quotas of unfinished tasks and of stored input bytes, kept in Redis so that
 * every API instance and worker shares one count. A submission claims its share before it is
 * queued; the worker (or a cancel, or expiry) releases it when the task ends, and the worker's
 * housekeeping releases claims whose task is gone, so a crash cannot leak quota for good.
 * @see docs/security.md#quotas
 */
@Injectable()
export class QuotaRepository {
  constructor(
    private readonly redis: RedisRepository,
    private readonly config: AppConfig,
  ) {}

  async claim(claim: QuotaClaim): Promise<QuotaDecision> {
    const limits = {
      tasks: this.config.QUOTA_TASKS_PER_CLIENT,
      bytes: this.config.QUOTA_BYTES_PER_CLIENT,
    };
    const reply = (await this.redis.run((client) =>
      client.eval(
        CLAIM,
        2,
        this.keyOf(claim.client),
        this.checksKey,
        claim.taskId,
        claim.tasks,
        claim.bytes,
        limits.tasks,
        limits.bytes,
        claim.client,
        Date.now() + this.recheckMs,
      ),
    )) as [number, string, number, number];
    const [granted, refused, tasks, bytes] = reply;
    if (granted === 1) return { granted: true, backlog: tasks };
    return refused === 'tasks'
      ? {
          granted: false,
          quota: 'QUOTA_TASKS_PER_CLIENT',
          used: tasks,
          limit: limits.tasks,
          asked: claim.tasks,
        }
      : {
          granted: false,
          quota: 'QUOTA_BYTES_PER_CLIENT',
          used: bytes,
          limit: limits.bytes,
          asked: claim.bytes,
        };
  }

  /** Gives back what `taskId` holds of `client`'s quota; true when it held anything. */
  async release(client: string, taskId: string): Promise<boolean> {
    const released = await this.redis.run((redis) =>
      redis.eval(RELEASE, 2, this.keyOf(client), this.checksKey, taskId, client),
    );
    return released === 1;
  }

  /** What a client holds now. */
  async usage(client: string): Promise<{ tasks: number; bytes: number; claims: string[] }> {
    const all = await this.redis.run((redis) => redis.hgetall(this.keyOf(client)));
    return {
      tasks: Number(all['#tasks'] ?? 0),
      bytes: Number(all['#bytes'] ?? 0),
      claims: Object.keys(all).filter((field) => !field.startsWith('#')),
    };
  }

  /**
   * Claims due for a check (see {@link recheckMs}), oldest first: the housekeeping sweep
   * releases those whose task has ended and expires those queued too long.
   */
  async due(limit: number, now = Date.now()): Promise<{ client: string; taskId: string }[]> {
    const members = await this.redis.run((redis) =>
      redis.zrangebyscore(this.checksKey, '-inf', now, 'LIMIT', 0, limit),
    );
    return members.map((member) => {
      const space = member.indexOf(' ');
      return { taskId: member.slice(0, space), client: member.slice(space + 1) };
    });
  }

  /** Looks at a claim again one {@link recheckMs} from now (its task is still running or queued). */
  async checkLater(client: string, taskId: string): Promise<void> {
    await this.redis.run((redis) =>
      redis.zadd(this.checksKey, 'XX', Date.now() + this.recheckMs, `${taskId} ${client}`),
    );
  }

  /**
   * How long a claim goes unchecked: a release lost to a crash is found this late at most, and
   * a task queued past TASK_MAX_WAIT_S is expired at most this late. Default: the smaller of
   * 10 minutes and TASK_MAX_WAIT_S.
   */
  get recheckMs(): number {
    return Math.min(RECHECK_MS, this.config.TASK_MAX_WAIT_S * 1000);
  }

  private keyOf(client: string): string {
    return `${this.config.keyPrefix}:quota:${client}`;
  }

  /** Every claim (`<task id> <client>`), scored by when the sweep should look at it next. */
  private get checksKey(): string {
    return `${this.config.keyPrefix}:quota-checks`;
  }
}
