// /ready names the dependency that is down and recovers by itself when it returns.
// Each case runs its own real Redis or Elasticsearch, started and stopped with the project's
// scripts, so that stopping it does not disturb the rest of the suite.
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import Redis from 'ioredis';
import request from 'supertest';
import type { App } from 'supertest/types';
import { AppModule } from '../../src/app.module';
import { loadConfig } from '../../src/config/load-config';
import { ELASTICSEARCH_URL, REDIS_URL, eventually, freePort, services } from '../support/services';

interface ReadyBody {
  status?: string;
  title?: string;
  detail?: string;
  checks?: Record<string, { status: string }>;
  details?: Record<string, { status: string }>;
}

async function bootApi(env: Record<string, string>): Promise<INestApplication<App>> {
  const config = loadConfig({
    REDIS_URL,
    ELASTICSEARCH_URL,
    READY_TIMEOUT_MS: '1500',
    // In this process the app runs from src/, and the transport thread loads compiled code
    // from dist/: shipping is proven with real processes in test/logshipping instead.
    LOG_SHIPPING: 'false',
    ...env,
  });
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.forRoot(config)],
  }).compile();
  const app = moduleRef.createNestApplication<INestApplication<App>>({ logger: false });
  await app.init();
  return app;
}

async function ready(
  app: INestApplication<App>,
): Promise<{ status: number; body: ReadyBody; type: string; retryAfter?: string }> {
  const response = await request(app.getHttpServer()).get('/ready');
  return {
    status: response.status,
    body: JSON.parse(response.text) as ReadyBody,
    type: String(response.headers['content-type']),
    retryAfter: response.headers['retry-after'],
  };
}

describe('GET /health and /ready with every dependency up', () => {
  let app: INestApplication<App>;
  beforeAll(async () => {
    app = await bootApi({});
  });
  afterAll(() => app.close());

  it('/health answers 200 without asking any dependency', async () => {
    const response = await request(app.getHttpServer()).get('/health');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'ok' });
  });

  it('/ready answers 200 and lists redis and elasticsearch as up', async () => {
    const result = await ready(app);
    expect(result.status).toBe(200);
    expect(result.body.details).toMatchObject({
      redis: { status: 'up' },
      elasticsearch: { status: 'up' },
    });
  });
});

describe('GET /ready when Redis stops and comes back', () => {
  let app: INestApplication<App>;
  let url: string;

  beforeAll(async () => {
    url = `redis://127.0.0.1:${await freePort()}`;
    services('up', 'redis', url);
    app = await bootApi({ REDIS_URL: url });
  });
  afterAll(async () => {
    await app.close();
    services('down', 'redis', url);
  });

  it('starts Redis with an append-only file and noeviction, as a queue needs', async () => {
    const redis = new Redis(url);
    const [, appendonly] = (await redis.config('GET', 'appendonly')) as string[];
    const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as string[];
    await redis.quit();
    expect({ appendonly, policy }).toEqual({ appendonly: 'yes', policy: 'noeviction' });
  });

  it('answers 503 naming redis, then 200 again on its own', async () => {
    expect((await ready(app)).status).toBe(200);

    services('down', 'redis', url);
    const down = await eventually(async () => {
      const result = await ready(app);
      return result.status === 503 ? result : undefined;
    }, '/ready to answer 503');
    expect(down.type).toMatch(/^application\/problem\+json/);
    expect(down.retryAfter).toBe('5');
    expect(down.body.title).toBe('Not ready');
    expect(down.body.detail).toMatch(/redis is down/);
    expect(down.body.detail).not.toMatch(/elasticsearch is down/);
    expect(down.body.checks).toMatchObject({
      redis: { status: 'down' },
      elasticsearch: { status: 'up' },
    });

    services('up', 'redis', url);
    const back = await eventually(async () => {
      const result = await ready(app);
      return result.status === 200 ? result : undefined;
    }, '/ready to answer 200 after Redis returned');
    expect(back.body.details?.redis).toMatchObject({ status: 'up' });
  });
});

describe('GET /ready when Elasticsearch stops and comes back', () => {
  let app: INestApplication<App>;
  let url: string;

  beforeAll(async () => {
    url = `http://127.0.0.1:${await freePort()}`;
    services('up', 'elasticsearch', url);
    app = await bootApi({ ELASTICSEARCH_URL: url });
  }, 300_000);
  afterAll(async () => {
    await app.close();
    services('down', 'elasticsearch', url);
  }, 120_000);

  it('answers 503 naming elasticsearch, then 200 again on its own', async () => {
    // A node just started may answer red, or slowly, for a moment: wait for it to be ready.
    const up = await eventually(async () => {
      const result = await ready(app);
      return result.status === 200 ? result : undefined;
    }, '/ready to answer 200 with the new node');
    expect(up.body.details?.elasticsearch).toMatchObject({ status: 'up' });

    services('down', 'elasticsearch', url);
    const down = await eventually(async () => {
      const result = await ready(app);
      return result.status === 503 ? result : undefined;
    }, '/ready to answer 503');
    expect(down.type).toMatch(/^application\/problem\+json/);
    expect(down.body.detail).toMatch(/elasticsearch is down/);
    expect(down.body.detail).not.toMatch(/redis is down/);
    expect(down.body.checks).toMatchObject({
      elasticsearch: { status: 'down' },
      redis: { status: 'up' },
    });

    services('up', 'elasticsearch', url);
    const back = await eventually(
      async () => {
        const result = await ready(app);
        return result.status === 200 ? result : undefined;
      },
      '/ready to answer 200 after Elasticsearch returned',
      180_000,
    );
    expect(back.body.details?.elasticsearch).toMatchObject({ status: 'up' });
  }, 300_000);
});
