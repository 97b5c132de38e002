import Redis from 'ioredis';
import { loadConfig } from '../config/load-config';
import { isConnectionError, isRedirection, RedisRepository } from './redis.repository';
import { RedisUnavailableError } from './redis-unavailable.error';

describe(isConnectionError.name, () => {
  it.each([
    'connect ECONNREFUSED 127.0.0.1:6379',
    'Connection is closed.',
    // A pipeline (BullMQ's, or WAIT on a cluster) in flight when its connection dropped:
    'Command aborted due to connection close',
    "Stream isn't writeable and enableOfflineQueue options is false",
    'CLUSTERDOWN The cluster is down',
    "READONLY You can't write against a read only replica.",
    // ioredis Cluster, while a master's replica is being promoted:
    "Cluster isn't ready and enableOfflineQueue options is false",
    'Failed to refresh slots cache.',
    'Too many Cluster redirections. Last error: Error: Connection is closed.',
    'None of startup nodes is available',
    'Node is disconnected',
    'ERR WAIT cannot be used with replica instances. Please also note that writes to replicas are just local and are not propagated.',
  ])('takes "%s" for Redis being unavailable (503)', (message) => {
    expect(isConnectionError(new Error(message))).toBe(true);
  });

  it.each([
    'ERR wrong number of arguments for command',
    'WRONGTYPE Operation against a key holding the wrong kind of value',
    'Missing key for job 1. moveToFinished',
  ])('leaves "%s" to be a 500: our bug, not an outage', (message) => {
    expect(isConnectionError(new Error(message))).toBe(false);
  });
});

describe(isRedirection.name, () => {
  it.each(['MOVED 10512 127.0.0.1:7401', 'ASK 10512 127.0.0.1:7401'])(
    'takes "%s" for a slot served elsewhere, where the script did not run',
    (message) => {
      expect(isRedirection(new Error(message))).toBe(true);
    },
  );

  it.each(['ERR WAIT cannot be used with replica instances', 'NOSCRIPT No matching script'])(
    'leaves "%s" alone',
    (message) => {
      expect(isRedirection(new Error(message))).toBe(false);
    },
  );
});

describe(RedisRepository.name, () => {
  const config = loadConfig({ REDIS_URL: process.env.REDIS_URL || 'redis://127.0.0.1:6379' });
  const client = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const redis = new RedisRepository(client, config);

  afterAll(() => client.quit());

  it('answers a redirection that reaches it as Redis unavailable (a 503 to retry), not a 500', async () => {
    // What a cluster pipeline hands back when a failover moved its slot under part of it.
    const moved = redis.run(() => Promise.reject(new Error('MOVED 10144 127.0.0.1:7401')));
    await expect(moved).rejects.toBeInstanceOf(RedisUnavailableError);
    await expect(moved).rejects.toThrow(/failing over .*nothing was written/);
  });

  it('passes a command error of our own on as it is', async () => {
    const wrong = redis.run(() => Promise.reject(new Error('ERR wrong number of arguments')));
    await expect(wrong).rejects.not.toBeInstanceOf(RedisUnavailableError);
  });
});
