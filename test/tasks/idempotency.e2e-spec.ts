// Idempotency-Key, as in the IETF httpapi draft and Stripe: one key, one task, one response.
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { ConfigModule } from '../../src/config/config.module';
import { loadConfig } from '../../src/config/load-config';
import { IdempotencyModule } from '../../src/idempotency/idempotency.module';
import { IdempotencyRepository } from '../../src/idempotency/idempotency.repository';
import { requestFingerprint } from '../../src/idempotency/idempotency-key';
import { RedisModule } from '../../src/redis/redis.module';
import {
  clusterClient,
  clusterNodeList,
  startRedisCluster,
  stopRedisCluster,
} from '../support/redis-cluster';
import { TestStack, type Task } from '../support/stack';

interface Problem {
  status: number;
  title: string;
  detail: string;
}

/** Where the cluster variant's Redis Cluster listens (6 ports). */
const CLUSTER_PORT = 7300;

// The same matrix on one Redis, on a Redis Cluster with every key in one slot, and on one
// with the keys in 3 shards spread over its 3 masters (docs/scaling.md).
describe.each([
  ['one Redis', false, 1],
  ['a Redis Cluster', true, 1],
  ['a Redis Cluster with 3 shards', true, 3],
])('Idempotency-Key on %s', (_setup, onCluster, shards) => {
  const stack = new TestStack({
    IDEMPOTENCY_TTL_S: '3600',
    ...(onCluster ? { REDIS_CLUSTER_NODES: clusterNodeList(CLUSTER_PORT) } : {}),
    ...(shards > 1 ? { REDIS_SHARDS: String(shards) } : {}),
  });
  const body = { type: 'echo', data: { message: 'once' } };

  beforeAll(async () => {
    if (onCluster) startRedisCluster(CLUSTER_PORT);
    await stack.startApi();
  }, 120_000);
  afterAll(async () => {
    await stack.stop();
    if (onCluster) stopRedisCluster(CLUSTER_PORT);
  });

  const post = (payload: unknown, key?: string) =>
    stack.request<Task & Problem>(
      'POST',
      '/api/v1/tasks',
      payload,
      key === undefined ? {} : { 'Idempotency-Key': key },
    );

  it('replays the first response for the same key and body, marked Idempotent-Replayed', async () => {
    const key = randomUUID();
    const first = await post(body, key);
    const again = await post(body, key);
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
  });

  it('treats the same JSON with its keys in another order as the same body', async () => {
    const key = randomUUID();
    const first = await post({ type: 'echo', data: { message: 'x', delay_ms: 0 } }, key);
    const again = await post('{"data":{"delay_ms":0,"message":"x"},"type":"echo"}', key);
    expect(again.status).toBe(202);
    expect(again.body.task_id).toBe(first.body.task_id);
  });

  it('answers 422 when the key comes back with a different body', async () => {
    const key = randomUUID();
    await post(body, key);
    const other = await post({ type: 'echo', data: { message: 'twice' } }, key);
    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(other.body.detail).toMatch(/different request body/);
  });

  /** Runs `fn` with the real IdempotencyRepository on this stack's Redis and prefix. */
  async function withRepository(
    fn: (repository: IdempotencyRepository) => Promise<void>,
  ): Promise<void> {
    const app: INestApplicationContext = await NestFactory.createApplicationContext(
      {
        module: class IdempotencyOnly {},
        imports: [ConfigModule.forRoot(loadConfig(stack.env)), RedisModule, IdempotencyModule],
      },
      { logger: false },
    );
    try {
      await fn(app.get(IdempotencyRepository));
    } finally {
      await app.close();
    }
  }

  it('answers 409 with Retry-After while the first request with the key is still in progress', async () => {
    const key = randomUUID();
    await withRepository(async (repository) => {
      // Hold the key as a request would while it queues its task.
      const fingerprint = requestFingerprint('POST', '/api/v1/tasks', body);
      const claim = await repository.claim(key, fingerprint, randomUUID());
      expect(claim.kind).toBe('claimed');
      const concurrent = await post(body, key);
      expect(concurrent.status).toBe(409);
      expect(concurrent.headers.get('retry-after')).toBe('1');
      expect(concurrent.body.detail).toMatch(/still being processed/);
    });
  });

  it('lets a retry take over a claim whose request died, with the same task id', async () => {
    await withRepository(async (repository) => {
      const fingerprint = requestFingerprint('POST', '/api/v1/tasks', body);
      // A request claimed the key and died before queueing its task.
      const key = randomUUID();
      const claim = await repository.claim(key, fingerprint, randomUUID());
      await repository.abandon(key, claim.record);
      const retry = await post(body, key);
      expect(retry.status).toBe(202);
      expect(retry.body.task_id).toBe(claim.record.task_id);

      // A request queued its task, which was then cancelled, and died before answering: the
      // retry answers for that task and does not bring it back.
      const key2 = randomUUID();
      const first = await post(body, key2);
      expect((await stack.request('DELETE', `/api/v1/tasks/${first.body.task_id}`)).status).toBe(
        200,
      );
      await repository.abandon(key2, {
        state: 'in-flight',
        fingerprint,
        task_id: first.body.task_id,
        lease_until: 0,
      });
      const again = await post(body, key2);
      expect(again.status).toBe(202);
      expect(again.body).toMatchObject({ task_id: first.body.task_id, status: 'cancelled' });
      expect((await stack.task(first.body.task_id)).status).toBe('cancelled');
    });
  });

  it('makes exactly one task of 100 concurrent identical requests', async () => {
    // No worker runs in this file: every task queued stays counted in `medium`.
    const queuedInMedium = async (): Promise<number> => {
      const reply = await stack.request<{ queues: Record<string, Record<string, number>> }>(
        'GET',
        '/api/v1/queues',
      );
      return reply.body.queues.medium.waiting + reply.body.queues.medium.prioritized;
    };
    const before = await queuedInMedium();
    const key = randomUUID();
    const replies = await Promise.all(Array.from({ length: 100 }, () => post(body, key)));
    const accepted = replies.filter((r) => r.status === 202);
    const conflicts = replies.filter((r) => r.status === 409);
    expect(accepted.length + conflicts.length).toBe(100);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    expect(new Set(accepted.map((r) => r.body.task_id)).size).toBe(1);
    expect(await queuedInMedium()).toBe(before + 1);

    // The retry of a client that lost the 202 gets the same task, and no new one.
    expect((await post(body, key)).body.task_id).toBe(accepted[0].body.task_id);
    expect(await queuedInMedium()).toBe(before + 1);
  });

  it("puts each key's record and task on the key's shard, spread over every shard", async () => {
    const keys = Array.from({ length: 24 }, () => randomUUID());
    const ids = await Promise.all(keys.map(async (key) => (await post(body, key)).body.task_id));
    const redis = onCluster
      ? clusterClient(stack.env.REDIS_CLUSTER_NODES ?? '')
      : new Redis(stack.env.REDIS_URL);
    const placed = await Promise.all(
      keys.map(async (key, i) => {
        const prefix = stack.prefixOfTask(ids[i]);
        const record = await redis.get(stack.idempotencyRecordKey(key));
        return {
          same: stack.idempotencyRecordKey(key).startsWith(`${prefix}:`),
          record: record !== null && record.includes(ids[i]),
          prefix,
        };
      }),
    );
    redis.disconnect();
    expect(placed.filter((p) => !p.same || !p.record)).toEqual([]);
    expect(new Set(placed.map((p) => p.prefix)).size).toBe(stack.shards.count);
  });

  it('keeps a key for IDEMPOTENCY_TTL_S', async () => {
    const key = randomUUID();
    await post(body, key);
    const redis = onCluster
      ? clusterClient(stack.env.REDIS_CLUSTER_NODES ?? '')
      : new Redis(stack.env.REDIS_URL);
    const ttl = await redis.ttl(stack.idempotencyRecordKey(key));
    redis.disconnect();
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
  });

  it.each([
    ['empty', ''],
    ['too long', 'k'.repeat(256)],
    ['with a space', 'two words'],
    ['non-ASCII', 'clé'],
  ])('refuses a key that is %s with 400', async (_name, key) => {
    const reply = await stack.request<Problem>('POST', '/api/v1/tasks', body, {
      'Idempotency-Key': key,
    });
    expect(reply.status).toBe(400);
    expect(reply.body.detail).toMatch(/Idempotency-Key must be 1 to 255 visible ASCII characters/);
  });

  it('accepts a key of 255 visible ASCII characters', async () => {
    expect((await post(body, '~'.repeat(255))).status).toBe(202);
  });
});
