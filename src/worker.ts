import 'reflect-metadata';
import { ConsoleLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AppConfig } from './config/app-config';
import { loadConfigOrExit, nestLogLevels } from './config/boot';
import { WorkerModule } from './workers/worker.module';

/** A worker process: runs tasks from the queues in WORKER_QUEUES. Start as many as you need. */
async function bootstrap(config: AppConfig): Promise<void> {
  const logger = new ConsoleLogger('threadline-worker', {
    json: true,
    logLevels: nestLogLevels(config),
  });
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), { logger });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
}

bootstrap(loadConfigOrExit()).catch((error: unknown) => {
  const reason = error instanceof Error ? error.message : String(error);
  process.stderr.write(`Threadline worker failed to start: ${reason}\n`);
  process.exit(1);
});
