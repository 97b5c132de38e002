import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import type { AppConfig } from './config/app-config';
import { loadConfigOrExit } from './boot';
import { PinoNestLogger } from './logging/nest-logger';
import { closeOnSignals } from './shutdown';

/** The API process. */
async function bootstrap(config: AppConfig): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  const logger = app.get(PinoNestLogger);
  app.useLogger(logger);
  configureApp(app);
  closeOnSignals(app);
  await app.listen(config.PORT, config.HOST);
  logger.log(`API listening on http://${config.HOST}:${config.PORT}`, 'threadline-api');
}

const config = loadConfigOrExit();
bootstrap(config).catch((error: unknown) => {
  const reason = error instanceof Error ? error.message : String(error);
  const hint =
    (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
      ? ` Another process listens on ${config.HOST}:${config.PORT}: stop it or set PORT.`
      : '';
  process.stderr.write(`Threadline API failed to start: ${reason}.${hint}\n`);
  process.exit(1);
});
