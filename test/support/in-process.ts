// In-process tests (test/integration/): Nest modules built inside the test's own process,
// against the real Redis, each file on a Redis key prefix of its own that it deletes after;
// log lines are read back as parsed JSON from memory.
import { Test, type TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { AppConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { loadConfig } from '../../src/config/load-config';
import { type AppLogger, createLogger, type ServiceName } from '../../src/logging/logger';
import { LoggingModule, PINO } from '../../src/logging/logging.module';
import { MetricsModule } from '../../src/metrics/metrics.module';
import type { RedisClient } from '../../src/redis/redis-client';
import { REDIS } from '../../src/redis/redis.constants';
import { RedisModule } from '../../src/redis/redis.module';
import { TasksModule } from '../../src/tasks/tasks.module';
import { REDIS_URL } from './services';

export type Line = Record<string, unknown>;

/** A validated config on a key prefix of its own; `env` as the environment would give it. */
export function inProcessConfig(env: Record<string, string> = {}): AppConfig {
  return loadConfig({
    REDIS_URL,
    REDIS_PREFIX: `tl-int-${randomUUID().slice(0, 8)}`,
    LOG_SHIPPING: 'false',
    ...env,
  });
}

/** The process's real logger (ECS lines stamped with the flow context), writing to memory. */
export class MemoryLog {
  readonly lines: Line[] = [];
  readonly logger: AppLogger;

  constructor(service: ServiceName = 'threadline-worker', level = 'debug') {
    this.logger = createLogger({
      service,
      level,
      destination: { write: (line: string) => void this.lines.push(JSON.parse(line) as Line) },
    });
  }

  /** The lines about one task, in the order they were written. */
  of(taskId: string): Line[] {
    return this.lines.filter((line) => line.task_id === taskId);
  }
}

/** Deletes every key under `prefix` (what a test file made). */
export async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
}

/**
 * The API's TasksModule on the real Redis with `config`, logging to `log`; its Redis client is
 * connected before this returns (a request waits only briefly for a connection being made).
 */
export async function startTasksModule(config: AppConfig, log: MemoryLog): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot(config),
      LoggingModule.forRoot('threadline-api'),
      MetricsModule.forRoot(),
      RedisModule,
      TasksModule,
    ],
  })
    .overrideProvider(PINO)
    .useValue(log.logger)
    .compile();
  await moduleRef.init();
  const redis = moduleRef.get<RedisClient>(REDIS);
  if (redis.status === 'wait') await redis.connect();
  if (redis.status !== 'ready') await new Promise((ready) => redis.once('ready', ready));
  return moduleRef;
}
