import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { AppConfig } from '../config/app-config';
import { parseRedisNodes } from '../config/redis-nodes';

/** One Redis or a Redis Cluster: the same commands, routed by key on a cluster. */
export type RedisClient = Redis | Cluster;

/** Options of one connection; on a cluster they apply to the connection to each node. */
export interface RedisClientOptions extends RedisOptions {
  connectionName: string;
}

/** How long to wait before reconnecting or re-reading the cluster's slots, growing to 2 s. */
const reconnectDelay = (attempt: number): number => Math.min(attempt * 200, 2000);

/**
 * A client for the Redis the configuration names: REDIS_CLUSTER_NODES (a cluster; ioredis
 * follows its MOVED redirections and re-reads the slots after a failover) or REDIS_URL.
 * @see https://github.com/redis/ioredis#cluster
 */
export function createRedisClient(config: AppConfig, options: RedisClientOptions): RedisClient {
  if (!config.redisCluster) {
    return new Redis(config.REDIS_URL, { retryStrategy: reconnectDelay, ...options });
  }
  const nodes = parseRedisNodes(config.REDIS_CLUSTER_NODES) ?? [];
  const password = nodes.find((node) => node.password)?.password;
  const tls = nodes.some((node) => node.tls) ? {} : undefined;
  const { lazyConnect, enableOfflineQueue, ...perNode } = options;
  return new Cluster(
    nodes.map(({ host, port }) => ({ host, port })),
    {
      lazyConnect,
      enableOfflineQueue,
      clusterRetryStrategy: reconnectDelay,
      // After a master dies, its slots answer again once a replica is promoted (about
      // cluster-node-timeout later): keep re-reading the slots until then.
      retryDelayOnClusterDown: 300,
      retryDelayOnFailover: 300,
      redisOptions: { ...perNode, ...(password ? { password } : {}), ...(tls ? { tls } : {}) },
    },
  );
}

/**
 * Waits until `replicas` replicas have every write made so far on the connection serving
 * `key`'s slot; returns how many confirmed within `timeoutMs`.
 * @see https://redis.io/docs/latest/commands/wait/
 */
export async function waitForReplicas(
  client: RedisClient,
  key: string,
  replicas: number,
  timeoutMs: number,
): Promise<number> {
  if (client instanceof Redis) return client.wait(replicas, timeoutMs);
  // On a cluster WAIT must reach the master of the slot the writes went to: a pipeline goes
  // to the node of its keys, over the same connection as those writes.
  const replies = await client.pipeline().exists(key).wait(replicas, timeoutMs).exec();
  const [error, acknowledged] = replies?.[1] ?? [new Error('no answer to WAIT'), 0];
  if (error) throw error;
  return Number(acknowledged);
}
