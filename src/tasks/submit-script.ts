import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import {
  type Claim,
  FIND_IDEMPOTENCY_LUA,
  IDEMPOTENCY_LEASE_MS,
  type IdempotencyRecord,
  IdempotencyRepository,
  type StoredResponse,
} from '../idempotency/idempotency.repository';
import type { QueueCall } from '../queues/queue-call';
import type { NewTask } from '../queues/task';
import { TaskQueueRepository } from '../queues/task-queue.repository';
import { type QuotaClaim, type QuotaDecision, QuotaRepository } from '../quotas/quota.repository';
import { CLAIM_QUOTA_LUA } from '../quotas/quota-scripts';
import { LuaScript } from '../redis/lua-script';
import type { RedisUnavailableError } from '../redis/redis-unavailable.error';
import { RedisRepository } from '../redis/redis.repository';

/** The Idempotency-Key a submission is made under, and what its record keeps once queued. */
export interface KeyedSubmission {
  /** The key, scoped to its API key (see IdempotentSubmit). */
  key: string;
  fingerprint: string;
  /** The response to store for replays: the one the submission answers with. */
  response: StoredResponse;
}

/** What one submission's round trip did. */
export type SubmitReply =
  | {
      kind: 'queued';
      backlog: number;
      /** Set when fewer replicas than REDIS_WAIT_REPLICAS confirmed the writes in time. */
      behind?: RedisUnavailableError;
    }
  | { kind: 'refused'; decision: Extract<QuotaDecision, { granted: false }> }
  /** The key was seen before: nothing was queued (see IdempotencyRepository.claim). */
  | { kind: 'seen'; claim: Claim & { kind: 'existing' | 'taken-over' } };

// KEYS: quota hash, quota checks, the idempotency record (the quota hash again without a key),
//       then the job insert's (queueTask's) own.
// ARGV: [1] '1' with an Idempotency-Key; [2..8] claimQuota's arguments after its keys;
//       [9..14] fingerprint, now, lease ms, record TTL s, the record once queued, the record
//       abandoned (refused by a quota); then queueTask's own.
const MAIN = `
local keyed = ARGV[1] == '1'
if keyed then
  local found = findIdempotency(KEYS[3], ARGV[9], tonumber(ARGV[10]), tonumber(ARGV[11]))
  if found then return found end
end
local quota = claimQuota(KEYS[1], KEYS[2], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
if quota[1] == 0 then
  if keyed then redis.call('SET', KEYS[3], ARGV[14], 'EX', ARGV[12]) end
  return {'refused', quota[2], quota[3], quota[4]}
end
local queueKeys, queueArgs = {}, {}
for i = 4, #KEYS do queueKeys[#queueKeys + 1] = KEYS[i] end
for i = 15, #ARGV do queueArgs[#queueArgs + 1] = ARGV[i] end
local id = queueTask(queueKeys, queueArgs, quota[3])
if type(id) == 'number' and id < 0 then return {'failed', '', id, 0} end
if keyed then redis.call('SET', KEYS[3], ARGV[13], 'EX', ARGV[12]) end
return {'queued', '', quota[3], quota[4]}
`;

/**
 * One submission of one task in one Redis round trip: the Idempotency-Key's claim (when one
 * is sent), the client's quota, the job, and the key's record with the response to replay,
 * in one Lua script that runs atomically, with WAIT for REDIS_WAIT_REPLICAS in the same
 * pipeline. Its keys all carry the key prefix, so on a Redis Cluster they share its hash slot.
 * A key seen before is answered without queueing anything; a batch (a BullMQ flow of jobs)
 * goes the longer way (TasksService).
 * @see docs/api.md
 */
@Injectable()
export class SubmitScript {
  /** One script per BullMQ add script (in practice one: every task has a priority). */
  private readonly scripts = new Map<string, LuaScript>();

  constructor(
    private readonly redis: RedisRepository,
    private readonly queue: TaskQueueRepository,
    private readonly quotas: QuotaRepository,
    private readonly idempotency: IdempotencyRepository,
    private readonly config: AppConfig,
  ) {}

  /**
   * Claims `claim` of the client's quota and queues `task`; with `keyed`, first claims its
   * Idempotency-Key, and records `keyed.response` for it once the task is queued.
   */
  async run(task: NewTask, claim: QuotaClaim, keyed?: KeyedSubmission): Promise<SubmitReply> {
    const add = await this.queue.addCall(task);
    const quota = this.quotas.claimCall(claim);
    const now = Date.now();
    const record = (state: IdempotencyRecord['state'], leaseUntil: number): string =>
      JSON.stringify({
        state,
        fingerprint: keyed?.fingerprint,
        task_id: task.id,
        lease_until: leaseUntil,
        ...(state === 'done' ? { response: keyed?.response } : {}),
      } satisfies Partial<IdempotencyRecord>);
    const { reply, behind } = await this.redis.evalReplicated(this.script(add), {
      keys: [
        ...quota.keys,
        keyed ? this.idempotency.recordKey(keyed.key) : quota.keys[0],
        ...add.keys,
      ],
      args: [
        keyed ? '1' : '0',
        ...quota.args,
        ...(keyed
          ? [
              keyed.fingerprint,
              now,
              IDEMPOTENCY_LEASE_MS,
              this.config.IDEMPOTENCY_TTL_S,
              record('done', now + IDEMPOTENCY_LEASE_MS),
              record('in-flight', 0),
            ]
          : ['', '', '', '', '', '']),
        ...add.args,
      ],
    });
    const [kind, second, third, fourth] = reply as [string, string, number, number];
    if (kind === 'existing' || kind === 'taken-over') {
      return { kind: 'seen', claim: { kind, record: JSON.parse(second) as IdempotencyRecord } };
    }
    if (kind === 'refused') {
      const decision = this.quotas.decision(claim, [0, second, third, fourth]);
      if (!decision.granted) return { kind: 'refused', decision };
    }
    if (kind !== 'queued') {
      throw new Error(`BullMQ refused to add task ${task.id} (code ${third})`);
    }
    return { kind: 'queued', backlog: third, ...(behind ? { behind } : {}) };
  }

  private script(add: QueueCall): LuaScript {
    let script = this.scripts.get(add.name);
    if (!script) {
      script = new LuaScript(`${CLAIM_QUOTA_LUA}${FIND_IDEMPOTENCY_LUA}${add.lua}${MAIN}`);
      this.scripts.set(add.name, script);
    }
    return script;
  }
}
