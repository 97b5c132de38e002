// The e2e suite talks to the real services the project starts: Redis and an Elasticsearch node.
import { Client } from '@elastic/elasticsearch';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { ELASTICSEARCH_URL, REDIS_URL } from '../support/services';

describe('Elasticsearch node', () => {
  const client = new Client({ node: ELASTICSEARCH_URL });
  const index = `threadline-e2e-${randomUUID()}`;

  afterAll(async () => {
    await client.indices.delete({ index, ignore_unavailable: true });
    await client.close();
  });

  it('passes the official client product check (X-Elastic-Product) and runs 8.x', async () => {
    const info = await client.info({}, { meta: true });
    expect(info.headers['x-elastic-product']).toBe('Elasticsearch');
    expect(info.body.version.number).toMatch(/^8\./);
  });

  it('indexes a document and finds it with a search', async () => {
    const marker = randomUUID();
    await client.index({ index, document: { message: `hello ${marker}`, marker }, refresh: true });
    const result = await client.search<{ marker: string }>({
      index,
      query: { match: { message: marker } },
    });
    expect(result.hits.hits.map((hit) => hit._source?.marker)).toEqual([marker]);
  });
});

describe('Redis', () => {
  const redis = new Redis(REDIS_URL);

  afterAll(async () => {
    await redis.quit();
  });

  it('writes and reads a key', async () => {
    const key = `threadline:e2e:${randomUUID()}`;
    const value = randomUUID();
    await redis.set(key, value, 'EX', 60);
    expect(await redis.get(key)).toBe(value);
    await redis.del(key);
  });
});
