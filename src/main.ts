import 'reflect-metadata';
import { ConsoleLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import type { AppConfig } from './config/app-config';
import { loadConfigOrExit, nestLogLevels } from './config/boot';

/** The API process. */
async function bootstrap(config: AppConfig): Promise<void> {
  const logger = new ConsoleLogger('threadline-api', {
    json: true,
    logLevels: nestLogLevels(config),
  });
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger,
    bodyParser: false,
  });
  configureApp(app);
  app.enableShutdownHooks();
  await app.listen(config.PORT, config.HOST);
  logger.log(`API listening on http://${config.HOST}:${config.PORT}`);
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
