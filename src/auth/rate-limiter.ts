import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { RedisRepository } from '../redis/redis.repository';

const WINDOW_MS = 60_000;

/** What the limiter decided for one request. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterS: number };

/**
 * Per-key request limit, RATE_LIMIT_PER_MINUTE in fixed one-minute windows counted in Redis,
 * so that every API instance shares one count. A key over its limit waits for the next
 * window. When Redis cannot be asked, requests pass: the request itself then meets the same
 * outage and answers 503.
 */
@Injectable()
export class RateLimiter {
  constructor(
    private readonly redis: RedisRepository,
    private readonly config: AppConfig,
  ) {}

  async take(key: string, now = Date.now()): Promise<RateDecision> {
    const window = Math.floor(now / WINDOW_MS);
    const counter = `${this.config.keyPrefix}:rate:${key}:${window}`;
    let count: number;
    try {
      count = await this.redis.run(async (client) => {
        const [[, n]] = (await client.multi().incr(counter).pexpire(counter, WINDOW_MS).exec()) as [
          [Error | null, number],
        ];
        return n;
      });
    } catch {
      return { allowed: true };
    }
    if (count <= this.config.RATE_LIMIT_PER_MINUTE) return { allowed: true };
    return { allowed: false, retryAfterS: Math.ceil(((window + 1) * WINDOW_MS - now) / 1000) };
  }
}
