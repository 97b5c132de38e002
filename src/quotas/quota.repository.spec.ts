import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../config/load-config';
import { RedisRepository } from '../redis/redis.repository';
import { QuotaRepository } from './quota.repository';

// The real scripts on the real Redis, under a prefix of this spec's own.
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

describe(QuotaRepository.name, () => {
  const prefix = `tl-unit-quota-${randomUUID().slice(0, 8)}`;
  const config = loadConfig({
    REDIS_URL,
    REDIS_PREFIX: prefix,
    QUOTA_TASKS_PER_CLIENT: '10',
    QUOTA_BYTES_PER_CLIENT: '10000',
  });
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const quotas = new QuotaRepository(new RedisRepository(client, config), config);
  let who = '';

  beforeEach(() => {
    who = `key:client-${randomUUID().slice(0, 8)}`;
  });
  afterAll(async () => {
    const keys = await client.keys(`${prefix}:*`);
    if (keys.length > 0) await client.del(...keys);
    await client.quit();
  });

  const claim = (taskId: string, tasks: number, bytes: number) =>
    quotas.claim({ client: who, taskId, tasks, bytes });

  it('counts a retried submission once, and gives the backlog as its place in the rotation', async () => {
    expect(await claim('a', 1, 100)).toEqual({ granted: true, backlog: 0 });
    expect(await claim('b', 3, 100)).toEqual({ granted: true, backlog: 1 });
    expect(await claim('a', 1, 100)).toEqual({ granted: true, backlog: 4 });
    expect(await quotas.usage(who)).toMatchObject({ tasks: 4, bytes: 200 });
  });

  it('refuses what would pass either quota, naming it, and stores nothing for it', async () => {
    await claim('a', 9, 100);
    expect(await claim('b', 2, 100)).toMatchObject({
      granted: false,
      quota: 'QUOTA_TASKS_PER_CLIENT',
      used: 9,
      limit: 10,
      asked: 2,
    });
    expect(await claim('c', 1, 9950)).toMatchObject({
      granted: false,
      quota: 'QUOTA_BYTES_PER_CLIENT',
      used: 100,
      asked: 9950,
    });
    expect(await quotas.usage(who)).toEqual({ tasks: 9, bytes: 100, claims: ['a'] });
  });

  it('settles an ended task to what it keeps, and gives that back once its result expires', async () => {
    await claim('batch', 3, 5000);
    const now = Date.now();
    const until = now + config.RESULT_TTL_S * 1000;
    expect(await quotas.settle(who, 'batch', { bytes: 200, bytesPerTask: 100 }, now)).toBe(true);
    // Settling twice (a retry, a sweep after the worker) changes nothing.
    expect(await quotas.settle(who, 'batch', { bytes: 999, bytesPerTask: 999 }, now)).toBe(false);
    expect(await quotas.usage(who)).toMatchObject({ tasks: 0, bytes: 500 });

    // Not due yet: nothing dropped, nothing to look at.
    expect((await quotas.due(100, until - 1)).dropped).toBe(0);
    const later = await quotas.due(100, until + 1);
    expect(later.dropped).toBeGreaterThanOrEqual(1);
    expect(later.open.map((c) => c.taskId)).not.toContain('batch');
    expect(await quotas.usage(who)).toEqual({ tasks: 0, bytes: 0, claims: [] });
  });

  it('returns an unfinished claim once it is due, for the sweep to check, and releases it whole', async () => {
    await claim('queued', 1, 300);
    const due = await quotas.due(1000, Date.now() + quotas.recheckMs + 1);
    expect(due.open).toContainEqual({ client: who, taskId: 'queued' });
    expect(await quotas.release(who, 'queued')).toBe(true);
    expect(await quotas.release(who, 'queued')).toBe(false);
    expect(await quotas.usage(who)).toEqual({ tasks: 0, bytes: 0, claims: [] });
  });
});
