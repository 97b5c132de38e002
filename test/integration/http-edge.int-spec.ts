// The HTTP edge of correlation in process (httpContextMiddleware): a Nest app with the context
// middleware, the access line and the problem filter as app.setup.ts and AppModule assemble
// them, and a probe controller that reads and joins flows the way the task routes do. Lines are
// read as the JSON the logger writes. It sits here, not in src/context, because it assembles
// several folders, which src/context never imports.
import { Controller, Get, HttpStatus, type INestApplication, Param, Res } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { Response } from 'express';
import request from 'supertest';
import type { App } from 'supertest/types';
import { accessLogMiddleware } from '../../src/logging/access-log.middleware';
import { ProblemDetailsFilter } from '../../src/problem/problem-details.filter';
import { ProblemException } from '../../src/problem/problem.exception';
import { flowContext } from '../../src/context/flow-context';
import { httpContextMiddleware } from '../../src/context/http-context.middleware';
import { type Line, MemoryLog } from '../support/in-process';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const INBOUND_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const INBOUND_SPAN = '00f067aa0ba902b7';

/** What a handler sees of its flow. */
function seen(): Line {
  const context = flowContext.get();
  return {
    request_id: context?.request_id,
    correlation_id: context?.correlation_id,
    trace: context?.trace,
  };
}

@Controller('probe')
class ProbeController {
  @Get()
  async flow(): Promise<Line> {
    // A wait in between, so that concurrent requests interleave.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
    return seen();
  }

  /** Joins a task's flow, as a poll does. */
  @Get('task/:id')
  join(@Param('id') id: string): Line {
    flowContext.assign({ task_id: id, correlation_id: `flow-of-${id}` });
    return seen();
  }

  /** Joins a task's flow, then refuses, as a cancel of a finished task does. */
  @Get('task/:id/refused')
  refuse(@Param('id') id: string): never {
    flowContext.assign({ task_id: id, correlation_id: `flow-of-${id}` });
    throw new ProblemException(HttpStatus.CONFLICT, { title: 'Refused', detail: 'On purpose.' });
  }

  /** Joins a task's flow and writes the response itself, as a submit does. */
  @Get('task/:id/own')
  own(@Param('id') id: string, @Res() res: Response): void {
    flowContext.assign({ task_id: id });
    res.status(HttpStatus.ACCEPTED).type('application/json').send('{}');
  }
}

describe(httpContextMiddleware.name, () => {
  const log = new MemoryLog('threadline-api', 'info');
  const { lines } = log;
  let app: INestApplication<App>;

  beforeAll(async () => {
    const logger = log.logger;
    const moduleRef = await Test.createTestingModule({
      controllers: [ProbeController],
      providers: [{ provide: APP_FILTER, useClass: ProblemDetailsFilter }],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.use(httpContextMiddleware(logger));
    app.use(accessLogMiddleware(logger));
    await app.init();
  });
  afterAll(() => app.close());

  /** The access line of the request with this ID, once the response is done. */
  const accessLine = (requestId: string): Line | undefined =>
    lines.find((l) => l.request_id === requestId && l['event.action'] === 'http-request');

  it('keeps valid inbound IDs, echoes them, and continues the inbound trace', async () => {
    const reply = await request(app.getHttpServer())
      .get('/probe')
      .set('X-Request-ID', 'req-kept-1')
      .set('X-Correlation-ID', 'flow-kept-1')
      .set('traceparent', `00-${INBOUND_TRACE}-${INBOUND_SPAN}-01`);
    expect(reply.status).toBe(200);
    expect(reply.headers).toMatchObject({
      'x-request-id': 'req-kept-1',
      'x-correlation-id': 'flow-kept-1',
    });
    expect(reply.headers['x-task-id']).toBeUndefined();
    expect(reply.body).toMatchObject({
      request_id: 'req-kept-1',
      correlation_id: 'flow-kept-1',
      trace: { trace_id: INBOUND_TRACE, parent_span_id: INBOUND_SPAN, flags: '01' },
    });
    expect(accessLine('req-kept-1')).toMatchObject({
      correlation_id: 'flow-kept-1',
      'http.request.id': 'req-kept-1',
      'trace.id': INBOUND_TRACE,
      'http.response.status_code': 200,
    });
  });

  it('generates a request ID when there is none, and starts the flow and a trace with it', async () => {
    const reply = await request(app.getHttpServer()).get('/probe');
    const requestId = reply.headers['x-request-id'];
    expect(requestId).toMatch(UUID);
    expect(reply.headers['x-correlation-id']).toBe(requestId);
    expect(reply.body).toMatchObject({ request_id: requestId, correlation_id: requestId });
    expect((reply.body as { trace: { trace_id: string } }).trace.trace_id).toMatch(
      /^[0-9a-f]{32}$/,
    );
  });

  it.each([
    ['too long', 'x'.repeat(129)],
    ['with spaces', 'RAW VALUE'],
    ['JSON', '{"RAW":"VALUE"}'],
  ])(
    'replaces an inbound X-Request-ID %s, says so in a line, and never writes it',
    async (_name, raw) => {
      const reply = await request(app.getHttpServer()).get('/probe').set('X-Request-ID', raw);
      const requestId = reply.headers['x-request-id'];
      expect(requestId).toMatch(UUID);
      expect(lines.filter((l) => l.request_id === requestId)).toContainEqual(
        expect.objectContaining({
          'event.action': 'id-replaced',
          'log.level': 'warn',
          'request.replaced_header': 'x-request-id',
        }),
      );
      expect(JSON.stringify(lines)).not.toContain(raw);
    },
  );

  it("answers with the flow a request joined: the task's correlation ID and its id", async () => {
    const reply = await request(app.getHttpServer())
      .get('/probe/task/t-1')
      .set('X-Request-ID', 'r-join');
    expect(reply.headers).toMatchObject({
      'x-request-id': 'r-join',
      'x-correlation-id': 'flow-of-t-1',
      'x-task-id': 't-1',
    });
    expect(accessLine('r-join')).toMatchObject({ correlation_id: 'flow-of-t-1', task_id: 't-1' });
  });

  it('answers with the joined flow on a refusal, and on a response the handler writes itself', async () => {
    const refused = await request(app.getHttpServer()).get('/probe/task/t-2/refused');
    expect(refused.status).toBe(409);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.headers).toMatchObject({
      'x-correlation-id': 'flow-of-t-2',
      'x-task-id': 't-2',
    });

    const own = await request(app.getHttpServer())
      .get('/probe/task/t-3/own')
      .set('X-Correlation-ID', 'mine');
    expect(own.status).toBe(202);
    expect(own.headers).toMatchObject({ 'x-correlation-id': 'mine', 'x-task-id': 't-3' });

    const unknown = await request(app.getHttpServer()).get('/nowhere').set('X-Request-ID', 'r-404');
    expect(unknown.status).toBe(404);
    expect(unknown.headers).toMatchObject({ 'x-request-id': 'r-404', 'x-correlation-id': 'r-404' });
  });

  it('keeps concurrent requests apart: each sees, answers and logs only its own IDs', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `concurrent-${i}`);
    const replies = await Promise.all(
      ids.map((id) => request(app.getHttpServer()).get('/probe').set('X-Request-ID', id)),
    );
    replies.forEach((reply, i) => {
      expect([reply.headers['x-request-id'], (reply.body as Line).request_id]).toEqual([
        ids[i],
        ids[i],
      ]);
      expect(accessLine(ids[i])).toMatchObject({ correlation_id: ids[i] });
    });
  });
});
