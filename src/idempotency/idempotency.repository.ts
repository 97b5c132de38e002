import { Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { LuaScript } from '../redis/lua-script';
import { RedisRepository } from '../redis/redis.repository';

/** The response first given for a key, replayed to every retry. */
export interface StoredResponse {
  status: number;
  body: string;
  location?: string;
}

/** What Redis remembers of one Idempotency-Key. */
export interface IdempotencyRecord {
  state: 'in-flight' | 'done';
  fingerprint: string;
  task_id: string;
  /** While in flight: until when (epoch ms) the claimant may finish before another may take over. */
  lease_until: number;
  response?: StoredResponse;
}

/** claimed: a new key; taken-over: an abandoned claim, same task id; existing: someone else's. */
export type Claim = { kind: 'claimed' | 'taken-over' | 'existing'; record: IdempotencyRecord };

/**
 * How long a request may hold a key while it queues the task. If its process dies meanwhile,
 * a retry after this takes over the record and its task id, so no second task appears.
 */
export const IDEMPOTENCY_LEASE_MS = 10_000;

/**
 * `findIdempotency(recordKey, fingerprint, now, leaseMs)`: nil when the key is free; else
 * `{'taken-over', record}` for an abandoned claim of the same body, whose lease it renews, or
 * `{'existing', record}`. A Lua function, so that the one-round-trip submit
 * (src/tasks/submit-script.ts) runs it too.
 */
export const FIND_IDEMPOTENCY_LUA = `
local function findIdempotency(recordKey, fingerprint, now, leaseMs)
  local raw = redis.call('GET', recordKey)
  if not raw then return nil end
  local rec = cjson.decode(raw)
  if rec.state == 'in-flight' and rec.fingerprint == fingerprint and tonumber(rec.lease_until) <= now then
    rec.lease_until = now + leaseMs
    local enc = cjson.encode(rec)
    redis.call('SET', recordKey, enc, 'KEEPTTL')
    return {'taken-over', enc}
  end
  return {'existing', raw}
end
`;

// Atomically: create the record, or take over an abandoned one, or return what is there.
const CLAIM_SCRIPT = new LuaScript(`${FIND_IDEMPOTENCY_LUA}
local now = tonumber(ARGV[3])
local found = findIdempotency(KEYS[1], ARGV[1], now, tonumber(ARGV[4]))
if found then return found end
local rec = cjson.encode({state='in-flight', fingerprint=ARGV[1], task_id=ARGV[2], lease_until=now + tonumber(ARGV[4])})
redis.call('SET', KEYS[1], rec, 'EX', tonumber(ARGV[5]))
return {'claimed', rec}
`);

/** Idempotency records in Redis, one per key, expiring after IDEMPOTENCY_TTL_S. */
@Injectable()
export class IdempotencyRepository {
  constructor(
    private readonly redis: RedisRepository,
    private readonly config: AppConfig,
  ) {}

  /** Claims `key` for a new request with this fingerprint and task id, or returns the existing record. */
  async claim(key: string, fingerprint: string, taskId: string): Promise<Claim> {
    const reply = (await this.redis.eval(CLAIM_SCRIPT, {
      keys: [this.recordKey(key)],
      args: [
        fingerprint,
        taskId,
        String(Date.now()),
        String(IDEMPOTENCY_LEASE_MS),
        String(this.config.IDEMPOTENCY_TTL_S),
      ],
    })) as [string, string];
    const record = JSON.parse(reply[1]) as IdempotencyRecord;
    return { kind: reply[0] as Claim['kind'], record };
  }

  /** Stores the response of the claimed request, for replay. */
  async complete(key: string, record: IdempotencyRecord, response: StoredResponse): Promise<void> {
    const done: IdempotencyRecord = { ...record, state: 'done', response };
    await this.redis.run((client) =>
      client.set(this.recordKey(key), JSON.stringify(done), 'KEEPTTL'),
    );
  }

  /**
   * Ends the claim early (the request failed): the next retry takes over at once, same task id.
   * A record that is not there (its request failed before it was written) stays away.
   */
  async abandon(key: string, record: IdempotencyRecord): Promise<void> {
    await this.redis.run((client) =>
      client.set(this.recordKey(key), JSON.stringify(abandoned(record)), 'KEEPTTL', 'XX'),
    );
  }

  /**
   * A new task id for a submission with `key`, on the key's shard: its record and its task
   * then share a hash slot, so that one script claims the key and queues the task.
   */
  newTaskId(key: string): string {
    const { shards } = this.config;
    return shards.place(randomUUID(), shards.ofString(key));
  }

  /**
   * Where `key`'s record is: on the key's shard (its hash slot's, modulo REDIS_SHARDS). Keys
   * are hashed: any visible ASCII is allowed in a key, and its length is bounded.
   */
  recordKey(key: string): string {
    const { shards } = this.config;
    const prefix = shards.prefixes[shards.ofString(key)];
    return `${prefix}:idempotency:${createHash('sha256').update(key).digest('hex')}`;
  }
}

/** A claim given up: its lease has run out, so that a retry takes it over. */
export function abandoned(record: IdempotencyRecord): IdempotencyRecord {
  return { ...record, lease_until: 0 };
}
