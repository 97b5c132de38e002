import 'reflect-metadata';
import { type DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AppConfig } from './config/app-config';
import { loadConfigOrExit } from './boot';
import { ConfigModule } from './config/config.module';
import { LogStore } from './logging/log-store';
import { LogStoreModule } from './logging/log-store.module';
import { LoggingModule } from './logging/logging.module';

/** `npm run es:setup`: installs or updates the log index template, then exits. */
@Module({})
class EsSetupModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: EsSetupModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot('threadline-api'),
        LogStoreModule,
      ],
    };
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  // This command installs the template itself, once, and reports the outcome.
  config.ES_SETUP_ON_START = false;
  // A one-shot command reports on stdout; it has no lines worth a spool.
  config.LOG_SHIPPING = false;
  const app = await NestFactory.createApplicationContext(EsSetupModule.forRoot(config), {
    logger: false,
  });
  try {
    await app.get(LogStore).install();
    process.stdout.write(
      `Index template for ${config.LOG_DATA_STREAM} installed at ${config.ELASTICSEARCH_URL} (retention ${config.LOG_RETENTION}).\n`,
    );
  } finally {
    await app.close();
  }
}

main().catch((error: unknown) => {
  const config = loadConfigOrExit();
  process.stderr.write(
    `Could not install the index template at ${config.ELASTICSEARCH_URL}: ${error instanceof Error ? error.message : String(error)}\n` +
      'Is Elasticsearch running? Try: npm run services -- up elasticsearch\n',
  );
  process.exit(1);
});
