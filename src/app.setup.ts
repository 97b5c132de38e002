import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage } from 'node:http';
import { SUBMIT_PATH } from './tasks/submission/submission-check';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { AppLogger as Logger } from './logging/logger';
import { Authenticator } from './auth/authenticator';
import { AppConfig } from './config/app-config';
import { httpContextMiddleware } from './context/http-context.middleware';
import { accessLogMiddleware } from './logging/access-log.middleware';
import { PINO } from './logging/logging.module';
import { Metrics } from './metrics/metrics';
import { documentProblems } from './problem/openapi-problems';
import { ProblemView } from './problem/problem.dto';
import { TaskQueueRepository } from './queues/task-queue.repository';
import { TASK_QUEUES } from './config/queue-names';
import { EVENT_ACTION } from './logging/event-actions.mjs';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';
/** Every route under it needs an API key when API_KEYS is set. */
export const API_PATH = '/api/v1';

/**
 * Everything about the HTTP app that is not a module: body limits, OpenAPI, the queue
 * dashboard. Shared by main.ts and the e2e tests, so that both serve the same app.
 * The app must be created with `bodyParser: false`; the JSON parser is registered here.
 */
export function configureApp(app: NestExpressApplication): void {
  const config = app.get(AppConfig);
  app.disable('x-powered-by');
  // No ETag: Express would hash every JSON body for it, and no client revalidates an answer.
  app.set('etag', false);
  // Who may set the client address with X-Forwarded-For (TRUST_PROXY): read by req.ip below.
  app.set('trust proxy', config.trustProxy);
  // First in the chain, so that everything after it (body parsing included) runs in the flow.
  // LOG_CONTEXT=false leaves the context out (only to measure its cost), not the access line.
  if (config.LOG_CONTEXT) app.use(httpContextMiddleware(app.get<Logger>(PINO)));
  const metrics = app.get(Metrics);
  app.use(
    accessLogMiddleware(app.get<Logger>(PINO), (method, route, status, seconds) =>
      metrics.httpRequest(method, route, status, seconds),
    ),
  );
  // API keys and rate limits before the body is read: a request without a valid key gets its
  // 401 (or 429) without a byte of its body parsed. Everything outside API_PATH (health,
  // readiness, docs, the trace page) is public; the ApiKeyGuard covers any other route.
  app.use(API_PATH, app.get(Authenticator).middleware());
  // A task submission's body is kept as text: it is parsed where it is checked, which for a
  // large one is a thread, not this event loop (SubmissionChecker).
  app.useBodyParser('text', { limit: config.BODY_LIMIT, type: isTaskSubmission });
  app.useBodyParser('json', { limit: config.BODY_LIMIT });

  const keysOn = config.API_KEYS !== '';
  const builder = new DocumentBuilder()
    .setTitle('Threadline')
    .setDescription(
      'Submit tasks, poll them, follow them. Every error is application/problem+json (RFC 9457).',
    )
    .setVersion('1');
  if (keysOn)
    builder.addBearerAuth({ type: 'http', scheme: 'bearer' }).addSecurityRequirements('bearer');
  const document = documentProblems(SwaggerModule.createDocument(app, builder.build()), {
    keysOn,
    problemSchema: ProblemView.name,
  });
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });

  if (keysOn) {
    // The dashboard shows every key's tasks and has no authentication of its own.
    app
      .get<Logger>(PINO)
      .info(
        { 'event.action': EVENT_ACTION.queueDashboardOff },
        `queue dashboard ${QUEUE_DASHBOARD_PATH} off: API_KEYS is set, and it would show every key's tasks`,
      );
    return;
  }

  // Read-only: the dashboard has no authentication of its own, and jobs added or edited
  // there would skip validation. Put it behind your proxy's auth before exposing it.
  const board = new ExpressAdapter();
  board.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: app
      .get(TaskQueueRepository)
      .allQueues()
      // With shards, each shard's `high` is a queue of its own: named by its key prefix.
      .map(
        (queue, _, all) =>
          new BullMQAdapter(queue, {
            readOnlyMode: true,
            ...(all.length > TASK_QUEUES.length ? { prefix: `${queue.opts.prefix}:` } : {}),
          }),
      ),
    serverAdapter: board,
  });
  app.use(QUEUE_DASHBOARD_PATH, board.getRouter());
}

/** A JSON `POST /api/v1/tasks`: its body goes to the submission check as text. */
function isTaskSubmission(req: IncomingMessage): boolean {
  const path = (req.url ?? '').split('?')[0].replace(/\/$/, '');
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  return req.method === 'POST' && path === SUBMIT_PATH && type === 'application/json';
}
