import 'reflect-metadata';
import { ConsoleLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app-config';
import { InvalidConfigError } from './config/invalid-config.error';
import { loadConfig } from './config/load-config';

async function bootstrap(config: AppConfig): Promise<void> {
  const logger = new ConsoleLogger('threadline-api', { json: true, logLevels: nestLevels(config) });
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger,
  });
  app.disable('x-powered-by');
  app.enableShutdownHooks();
  await app.listen(config.PORT, config.HOST);
  logger.log(`API listening on http://${config.HOST}:${config.PORT}`);
}

function nestLevels(
  config: AppConfig,
): ('fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose')[] {
  const order = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
  const index = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 }[config.LOG_LEVEL];
  return order.slice(0, index + 1);
}

function main(): void {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof InvalidConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG: the configuration is wrong, restarting will not help.
    }
    throw error;
  }
  bootstrap(config).catch((error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error);
    const hint =
      (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? ` Another process listens on ${config.HOST}:${config.PORT}: stop it or set PORT.`
        : '';
    process.stderr.write(`Threadline API failed to start: ${reason}.${hint}\n`);
    process.exit(1);
  });
}

main();
