import { Redis } from 'ioredis';

/**
 * Runs `command` on the Redis at `url` over a connection of its own, made without retries and
 * closed after; undefined when Redis does not answer or the command fails.
 */
export async function probeRedis<T>(
  url: string,
  command: (client: Redis) => Promise<T>,
): Promise<T | undefined> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await command(client);
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}
