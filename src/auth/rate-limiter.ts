import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { RedisRepository } from '../redis/redis.repository';
import { SLIDING_WINDOW_SCRIPT } from './sliding-window.script';

/** One quota: at most `limit` requests in any `windowS` seconds, per `id`. */
export interface RatePolicy {
  /** The policy's name in the RateLimit and RateLimit-Policy header fields. */
  name: string;
  limit: number;
  windowS: number;
}

/** A policy applied to one client, and whether this request counts against it. */
export interface RateBucket {
  policy: RatePolicy;
  /** Whom it counts: an API key's name, a client address. */
  id: string;
  /** Count this request (`true`), or only refuse it when the bucket is full. */
  take: boolean;
}

/** Where a bucket stands after the check. */
export interface RateState {
  policy: RatePolicy;
  /** Requests the bucket still has room for now. */
  remaining: number;
  /** Seconds until its quota next grows (0 when it counts nothing). */
  resetS: number;
}

/** What the limiter decided for one request, and where each bucket stands. */
export interface RateDecision {
  allowed: boolean;
  states: RateState[];
  /** When refused: the first full bucket, and the seconds until it has room. */
  refusedBy?: RateState;
}

/**
 * Sliding-window rate limits in Redis, one script per request (`SLIDING_WINDOW_SCRIPT`), so
 * that every API instance shares one count and a burst straddling a minute boundary counts
 * in one window. Redis errors are the caller's: it decides what a request gets without a
 * limit (see docs/security.md#when-redis-cannot-be-asked).
 * @see https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/
 */
@Injectable()
export class RateLimiter {
  private readonly sha = createHash('sha1').update(SLIDING_WINDOW_SCRIPT).digest('hex');

  constructor(
    private readonly redis: RedisRepository,
    private readonly config: AppConfig,
  ) {}

  /**
   * Counts the request in every bucket that takes, if all have room.
   * @param now the time in ms; by default Redis's clock
   * @throws RedisUnavailableError (or the command's error) when Redis cannot be asked
   */
  async check(buckets: readonly RateBucket[], now?: number): Promise<RateDecision> {
    // Each bucket is kept on its client's shard (an address's, a key name's), so that a
    // client's count is one whichever way it comes and no one master holds every count. The
    // buckets of one shard are checked in one script, the shards' scripts side by side: when
    // one refuses, another may have counted the request already (a key's request refused for
    // its address's failures), which errs on the side of refusing.
    const { shards } = this.config;
    const groups = new Map<number, number[]>();
    buckets.forEach(({ id }, i) => {
      const shard = shards.ofString(id);
      groups.set(shard, [...(groups.get(shard) ?? []), i]);
    });
    const replies = await Promise.all(
      [...groups].map(([shard, indexes]) =>
        this.run(
          shards.prefixes[shard],
          indexes.map((i) => buckets[i]),
          now,
        ).then((reply) => ({ indexes, reply })),
      ),
    );
    const states: RateState[] = [];
    let allowed = true;
    for (const { indexes, reply } of replies) {
      if (Number(reply[0]) !== 1) allowed = false;
      indexes.forEach((bucket, j) => {
        const { policy } = buckets[bucket];
        const count = Number(reply[2 + 2 * j]);
        const waitMs = Number(reply[3 + 2 * j]);
        states[bucket] = {
          policy,
          remaining: Math.max(0, policy.limit - count),
          resetS: Math.ceil(Math.max(0, waitMs) / 1000),
        };
      });
    }
    if (allowed) return { allowed, states };
    const full = states.find((state) => state.remaining === 0) ?? states[0];
    return { allowed, states, refusedBy: { ...full, resetS: Math.max(1, full.resetS) } };
  }

  /** SLIDING_WINDOW_SCRIPT over `buckets`, all kept under `prefix` (one hash slot). */
  private async run(
    prefix: string,
    buckets: readonly RateBucket[],
    now: number | undefined,
  ): Promise<number[]> {
    const keys = buckets.map(({ policy, id }) => `${prefix}:rate:${policy.name}:${id}`);
    const args = [
      now === undefined ? '' : String(Math.floor(now)),
      randomBytes(8).toString('hex'),
      ...buckets.flatMap(({ policy, take }) => [
        String(policy.limit),
        String(policy.windowS * 1000),
        take ? '1' : '0',
      ]),
    ];
    return this.redis.run(async (client) => {
      try {
        return (await client.evalsha(this.sha, keys.length, ...keys, ...args)) as number[];
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return (await client.eval(
          SLIDING_WINDOW_SCRIPT,
          keys.length,
          ...keys,
          ...args,
        )) as number[];
      }
    });
  }
}

/** `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers): `"name";q=limit;w=window`. */
export function rateLimitPolicyField(states: readonly RateState[]): string {
  return states
    .map(({ policy }) => `"${policy.name}";q=${policy.limit};w=${policy.windowS}`)
    .join(', ');
}

/** `RateLimit` (draft-ietf-httpapi-ratelimit-headers): `"name";r=remaining;t=reset`. */
export function rateLimitField(states: readonly RateState[]): string {
  return states
    .map(({ policy, remaining, resetS }) => `"${policy.name}";r=${remaining};t=${resetS}`)
    .join(', ');
}
