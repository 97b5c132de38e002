import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { AppLogger as Logger } from './logging/logger';
import { AppConfig } from './config/app-config';
import { accessLogMiddleware, httpContextMiddleware } from './context/http-context.middleware';
import { PINO } from './logging/logging.module';
import { TaskQueueRepository } from './queues/task-queue.repository';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/**
 * Everything about the HTTP app that is not a module: body limits, OpenAPI, the queue
 * dashboard. Shared by main.ts and the e2e tests, so that both serve the same app.
 * The app must be created with `bodyParser: false`; the JSON parser is registered here.
 */
export function configureApp(app: NestExpressApplication): void {
  const config = app.get(AppConfig);
  app.disable('x-powered-by');
  // First in the chain, so that everything after it (body parsing included) runs in the flow.
  app.use(
    config.LOG_CONTEXT
      ? httpContextMiddleware(app.get<Logger>(PINO))
      : accessLogMiddleware(app.get<Logger>(PINO)),
  );
  app.useBodyParser('json', { limit: config.BODY_LIMIT });

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Threadline')
      .setDescription(
        'Submit tasks, poll them, follow them. Every error is application/problem+json (RFC 9457).',
      )
      .setVersion('1')
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });

  // Read-only: the dashboard has no authentication of its own, and jobs added or edited
  // there would skip validation. Put it behind your proxy's auth before exposing it.
  const board = new ExpressAdapter();
  board.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: app
      .get(TaskQueueRepository)
      .allQueues()
      .map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
    serverAdapter: board,
  });
  app.use(QUEUE_DASHBOARD_PATH, board.getRouter());
}
