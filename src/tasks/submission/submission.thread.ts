// The script of the threads that check large submissions (see SubmissionChecker): off the
// API's event loop, with a TaskRegistry of their own built from the same modules.
import 'reflect-metadata';
import { type DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AppConfig } from '../../config/app-config';
import { ConfigModule } from '../../config/config.module';
import { loadConfig } from '../../config/load-config';
import { serveThreadTasks } from '../../threads/thread-protocol';
import { TaskRegistry } from '../task-registry';
import { TaskTypesModule } from '../task-types.module';
import { checkSubmission, type SubmissionInput } from './submission-check';

/** The task types and the configuration: what a check needs, and nothing else. */
@Module({})
class SubmissionCheckModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: SubmissionCheckModule,
      imports: [ConfigModule.forRoot(config), TaskTypesModule],
    };
  }
}

let registry: Promise<TaskRegistry> | undefined;

async function boot(): Promise<TaskRegistry> {
  // The API validated the same environment at boot; a thread sees a copy of it.
  const app = await NestFactory.createApplicationContext(
    SubmissionCheckModule.forRoot(loadConfig(process.env)),
    { logger: false },
  );
  return app.get(TaskRegistry);
}

serveThreadTasks(async (input) =>
  checkSubmission(await (registry ??= boot()), input as SubmissionInput),
);
