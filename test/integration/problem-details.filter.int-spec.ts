// The problem filter in process: a Nest app whose routes fail in each way the API's can, with
// Nest's logger on the process's pino logger, so that what reaches the log is read too.
import {
  Body,
  Controller,
  Get,
  HttpStatus,
  type INestApplication,
  ParseIntPipe,
  Post,
  Query,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { IsInt, Max } from 'class-validator';
import request from 'supertest';
import type { App } from 'supertest/types';
import { PinoNestLogger } from '../../src/logging/nest-logger';
import { RedisUnavailableError } from '../../src/redis/redis-unavailable.error';
import { validatePlain } from '../../src/validation/validate-plain';
import {
  ProblemDetailsFilter,
  PROBLEM_CONTENT_TYPE,
} from '../../src/problem/problem-details.filter';
import { ProblemException } from '../../src/problem/problem.exception';
import { MemoryLog } from '../support/in-process';

const mediaType = (header: string | undefined) => header?.split(';')[0];

class LimitDto {
  @IsInt()
  @Max(10)
  limit!: number;
}

const SECRET_IN_ERROR = 'db-password-in-a-stack-frame';

@Controller('fail')
class FailingController {
  @Get('problem')
  problem(): never {
    throw new ProblemException(HttpStatus.TOO_MANY_REQUESTS, {
      title: 'Quota reached',
      detail: 'You have 10 queued tasks (QUOTA_TASKS_PER_CLIENT=10); wait for some to finish.',
      type: 'https://threadline.example/problems/quota',
      extensions: { limit: 10 },
      headers: { 'Retry-After': '7' },
    });
  }

  /** A body checked as the submission check does: each problem located by a JSON pointer. */
  @Post('validated')
  validated(@Body() body: unknown): string {
    const { problems } = validatePlain(LimitDto, body, '');
    if (problems.length > 0) {
      throw new ProblemException(HttpStatus.BAD_REQUEST, {
        title: 'Invalid request body',
        detail: problems.map((p) => `${p.pointer} ${p.detail}`).join('; '),
        extensions: { errors: problems },
      });
    }
    return 'ok';
  }

  /** Nest's own validation: a pipe's BadRequestException. */
  @Get('parsed')
  parsed(@Query('n', ParseIntPipe) n: number): number {
    return n;
  }

  @Get('unknown')
  unknown(): never {
    throw new Error(`connection refused (${SECRET_IN_ERROR})`);
  }

  @Get('redis')
  redis(): never {
    throw new RedisUnavailableError('connection closed');
  }
}

describe(ProblemDetailsFilter.name, () => {
  const log = new MemoryLog('threadline-api', 'info');
  const { lines } = log;
  let app: INestApplication<App>;

  beforeAll(async () => {
    const pino = log.logger;
    const moduleRef = await Test.createTestingModule({
      controllers: [FailingController],
      providers: [{ provide: APP_FILTER, useClass: ProblemDetailsFilter }],
    }).compile();
    app = moduleRef.createNestApplication({ logger: new PinoNestLogger(pino) });
    await app.init();
  });
  afterAll(() => app.close());

  const get = (path: string) => request(app.getHttpServer()).get(path);

  it('renders a ProblemException with its status, fields, extensions and headers', async () => {
    const reply = await get('/fail/problem');
    expect(reply.status).toBe(429);
    expect(mediaType(reply.headers['content-type'])).toBe(PROBLEM_CONTENT_TYPE);
    expect(reply.headers['retry-after']).toBe('7');
    expect(JSON.parse(reply.text)).toEqual({
      type: 'https://threadline.example/problems/quota',
      title: 'Quota reached',
      status: 429,
      detail: 'You have 10 queued tasks (QUOTA_TASKS_PER_CLIENT=10); wait for some to finish.',
      instance: '/fail/problem',
      limit: 10,
    });
  });

  it('renders a validation error as a 400 that locates each problem', async () => {
    const reply = await request(app.getHttpServer())
      .post('/fail/validated')
      .send({ limit: 99, extra: true });
    expect(reply.status).toBe(400);
    const problem = JSON.parse(reply.text) as { detail: string; errors: unknown[] };
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        { pointer: '/extra', detail: 'is not a known field; remove it' },
        { pointer: '/limit', detail: 'must not be greater than 10' },
      ]),
    );
    expect(problem.detail).toContain('/limit must not be greater than 10');
  });

  it("renders Nest's own 400s and the body parser's with their message", async () => {
    const parsed = await get('/fail/parsed?n=abc');
    expect(parsed.status).toBe(400);
    expect(JSON.parse(parsed.text)).toMatchObject({
      title: 'Bad Request',
      detail: expect.stringContaining('numeric string is expected') as unknown,
    });
    const malformed = await request(app.getHttpServer())
      .post('/fail/validated')
      .set('content-type', 'application/json')
      .send('{"limit":');
    expect(malformed.status).toBe(400);
    expect(mediaType(malformed.headers['content-type'])).toBe(PROBLEM_CONTENT_TYPE);
    expect(JSON.parse(malformed.text)).toMatchObject({
      detail: expect.stringContaining('not valid JSON') as unknown,
    });
  });

  it('turns an unknown error into a 500 that tells nothing of it, and logs its stack', async () => {
    const reply = await get('/fail/unknown');
    expect(reply.status).toBe(500);
    const problem = JSON.parse(reply.text) as Record<string, unknown>;
    expect(problem).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: expect.stringContaining('quote the X-Request-ID') as unknown,
      instance: '/fail/unknown',
    });
    expect(reply.text).not.toContain(SECRET_IN_ERROR);
    expect(reply.text).not.toMatch(/\bat .+:\d+:\d+/);
    const logged = lines.find(
      (l) => l['log.level'] === 'error' && String(l.message).includes(SECRET_IN_ERROR),
    );
    expect(String(logged?.message)).toMatch(/\n\s+at /);
  });

  it('answers 503 with Retry-After while Redis is unavailable', async () => {
    const reply = await get('/fail/redis');
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toBe('1');
    expect(JSON.parse(reply.text)).toMatchObject({
      title: 'Service Unavailable',
      detail: expect.stringContaining('retry in 1 s') as unknown,
    });
  });
});
