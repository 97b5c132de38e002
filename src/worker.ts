import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { AppConfig } from './config/app-config';
import { loadConfigOrExit } from './boot';
import { PinoNestLogger } from './logging/nest-logger';
import { closeOnSignals } from './shutdown';
import { WorkerModule } from './workers/worker.module';

/** A worker process: runs tasks from the queues in WORKER_QUEUES. Start as many as you need. */
async function bootstrap(config: AppConfig): Promise<void> {
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), {
    bufferLogs: true,
  });
  app.useLogger(app.get(PinoNestLogger));
  closeOnSignals(app);
  await app.init();
}

bootstrap(loadConfigOrExit()).catch((error: unknown) => {
  const reason = error instanceof Error ? error.message : String(error);
  process.stderr.write(`Threadline worker failed to start: ${reason}\n`);
  process.exit(1);
});
