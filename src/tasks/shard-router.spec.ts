import { loadConfig } from '../config/load-config';
import { RedisUnavailableError } from '../redis/redis-unavailable.error';
import { SHARD_DOWN_MS, ShardRouter } from './shard-router';

describe(ShardRouter.name, () => {
  const config = loadConfig({ REDIS_SHARDS: '3' });
  const shardsOf = (router: ShardRouter, now: number): Set<number> =>
    new Set(Array.from({ length: 300 }, () => config.shards.ofTask(router.newTaskId(now))));

  it('spreads new tasks over every shard', () => {
    expect(shardsOf(new ShardRouter(config), 0)).toEqual(new Set([0, 1, 2]));
  });

  it('passes over a shard whose submission failed for want of Redis, for SHARD_DOWN_MS', () => {
    const router = new ShardRouter(config);
    const onShard1 = config.shards.place('00000000-0000-4000-8000-000000000000', 1);
    router.failed(onShard1, new RedisUnavailableError('Redis did not answer within 800 ms'), 1000);

    expect(shardsOf(router, 1000)).toEqual(new Set([0, 2]));
    expect(shardsOf(router, 1000 + SHARD_DOWN_MS)).toEqual(new Set([0, 1, 2]));
  });

  it('keeps a shard whose submission failed for another reason (the request, not Redis)', () => {
    const router = new ShardRouter(config);
    router.failed(
      config.shards.place('00000000-0000-4000-8000-000000000000', 1),
      new Error('x'),
      0,
    );
    expect(shardsOf(router, 0)).toEqual(new Set([0, 1, 2]));
  });

  it('keeps to the drawn shard when every shard failed lately: the submission answers 503', () => {
    const router = new ShardRouter(config);
    for (let shard = 0; shard < 3; shard++) {
      const id = config.shards.place('00000000-0000-4000-8000-000000000000', shard);
      router.failed(id, new RedisUnavailableError('down'), 0);
    }
    expect(shardsOf(router, 0)).toEqual(new Set([0, 1, 2]));
  });
});
