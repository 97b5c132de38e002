import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../config/load-config';
import { RedisRepository } from '../redis/redis.repository';
import { RateLimiter, rateLimitField, rateLimitPolicyField, type RatePolicy } from './rate-limiter';

// The real script on the real Redis, under a prefix of this spec's own.
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const MINUTE = 60_000;

describe(RateLimiter.name, () => {
  const prefix = `tl-unit-rate-${randomUUID().slice(0, 8)}`;
  const config = loadConfig({ REDIS_URL, REDIS_PREFIX: prefix });
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const limiter = new RateLimiter(new RedisRepository(client, config), config);
  const policy: RatePolicy = { name: 'requests', limit: 5, windowS: 60 };
  let id = '';

  beforeEach(() => {
    id = randomUUID();
  });
  afterAll(async () => {
    const keys = await client.keys(`${prefix}:*`);
    if (keys.length > 0) await client.del(...keys);
    await client.quit();
  });

  const take = (at: number, bucketPolicy = policy) =>
    limiter.check([{ policy: bucketPolicy, id, take: true }], at);

  it('refuses a second burst just after a minute boundary: no 2x at a window edge', async () => {
    const edge = Math.ceil(Date.now() / MINUTE) * MINUTE;
    const first = [];
    for (let i = 0; i < policy.limit; i++) first.push(await take(edge - 100 + i));
    expect(first.every((d) => d.allowed)).toBe(true);
    const second = [];
    for (let i = 0; i < policy.limit; i++) second.push(await take(edge + 100 + i));
    expect(second.filter((d) => d.allowed)).toHaveLength(0);
    // The first of the earlier burst leaves the window 60 s after it came.
    expect(second[0]?.refusedBy?.resetS).toBe(60);
  });

  it('lets a request in again once the oldest counted one leaves the window', async () => {
    const start = 1_000_000_000_000;
    for (let i = 0; i < policy.limit; i++)
      expect((await take(start + i * 1000)).allowed).toBe(true);
    expect((await take(start + MINUTE - 1)).allowed).toBe(false);
    const later = await take(start + MINUTE);
    expect(later.allowed).toBe(true);
    expect(later.states[0]?.remaining).toBe(0);
    expect((await take(start + MINUTE + 1)).allowed).toBe(false);
    expect((await take(start + MINUTE + 1000)).allowed).toBe(true);
  });

  it('counts only allowed requests, so a refused flood does not push the reset further', async () => {
    const start = 2_000_000_000_000;
    for (let i = 0; i < policy.limit; i++) await take(start);
    for (let i = 0; i < 50; i++) expect((await take(start + 30_000)).allowed).toBe(false);
    expect((await take(start + MINUTE)).allowed).toBe(true);
  });

  it('only looks at a bucket that does not take, and refuses when any bucket is full', async () => {
    const start = 3_000_000_000_000;
    const failures: RatePolicy = { name: 'auth-failures', limit: 2, windowS: 60 };
    const address = `addr-${id}`;
    const both = (at: number) =>
      limiter.check(
        [
          { policy: failures, id: address, take: false },
          { policy, id, take: true },
        ],
        at,
      );
    const passed = await both(start);
    expect(passed.allowed).toBe(true);
    expect(passed.states.map((s) => s.remaining)).toEqual([2, 4]);
    for (let i = 0; i < 2; i++) {
      await limiter.check([{ policy: failures, id: address, take: true }], start + 1);
    }
    const blocked = await both(start + 2);
    expect(blocked.allowed).toBe(false);
    expect(blocked.refusedBy?.policy.name).toBe('auth-failures');
    expect(blocked.refusedBy?.resetS).toBe(60);
    // Refused: nothing was taken from the request bucket.
    expect(blocked.states[1]?.remaining).toBe(4);
  });

  it('renders the IETF draft fields', async () => {
    const decision = await take(4_000_000_000_000);
    expect(rateLimitPolicyField(decision.states)).toBe('"requests";q=5;w=60');
    expect(rateLimitField(decision.states)).toBe('"requests";r=4;t=60');
  });

  it("uses Redis's clock when given none", async () => {
    const decision = await limiter.check([{ policy, id, take: true }]);
    expect(decision.allowed).toBe(true);
    expect(decision.states[0]?.remaining).toBe(4);
  });

  it('keeps one sorted set per bucket under the prefix, expiring with its window', async () => {
    await take(Date.now());
    const key = `${prefix}:rate:requests:${id}`;
    expect(await client.zcard(key)).toBe(1);
    const ttl = await client.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(MINUTE);
  });

  it('throws when Redis answers with an error, leaving the choice to the caller', async () => {
    // A real error from the real Redis: the bucket's key holds a string, not a sorted set.
    await client.set(`${prefix}:rate:requests:${id}`, 'not a sorted set');
    await expect(limiter.check([{ policy, id, take: true }])).rejects.toThrow(/WRONGTYPE/);
  });
});

describe(`${RateLimiter.name} with REDIS_SHARDS=3`, () => {
  const prefix = `tl-unit-rate-${randomUUID().slice(0, 8)}`;
  const config = loadConfig({ REDIS_URL, REDIS_PREFIX: prefix, REDIS_SHARDS: '3' });
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const limiter = new RateLimiter(new RedisRepository(client, config), config);
  const requests: RatePolicy = { name: 'requests', limit: 4, windowS: 60 };
  const failures: RatePolicy = { name: 'failures', limit: 2, windowS: 60 };
  /** A client address kept on `shard`. */
  const addressOn = (shard: number): string => {
    for (let i = 0; ; i++)
      if (config.shards.ofString(`10.0.0.${i}`) === shard) return `10.0.0.${i}`;
  };

  afterAll(async () => {
    const keys = await client.keys(`{${prefix}:*`);
    if (keys.length > 0) await client.del(...keys);
    await client.quit();
  });

  it("counts a key's requests once, on the key's shard, from addresses on other shards", async () => {
    const key = randomUUID();
    const keyShard = config.shards.ofString(key);
    const [a, b] = [addressOn((keyShard + 1) % 3), addressOn((keyShard + 2) % 3)];
    const from = (address: string) =>
      limiter.check([
        { policy: failures, id: address, take: false },
        { policy: requests, id: key, take: true },
      ]);
    const answers = [];
    for (const address of [a, b, a, b, a]) answers.push((await from(address)).allowed);
    expect(answers).toEqual([true, true, true, true, false]);
    const kept = `${config.shards.prefixes[keyShard]}:rate:requests:${key}`;
    expect(await client.zcard(kept)).toBe(4);
  });

  it("refuses a key's request once its address has failed too often, on the address's shard", async () => {
    const key = randomUUID();
    const address = addressOn((config.shards.ofString(key) + 1) % 3);
    for (let i = 0; i < 2; i++) {
      await limiter.check([{ policy: failures, id: address, take: true }]);
    }
    const decision = await limiter.check([
      { policy: failures, id: address, take: false },
      { policy: requests, id: key, take: true },
    ]);
    expect(decision.allowed).toBe(false);
    expect(decision.refusedBy?.policy).toBe(failures);
    expect(decision.states.map((s) => s.policy.name)).toEqual(['failures', 'requests']);
  });
});
