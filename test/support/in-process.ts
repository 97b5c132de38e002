// In-process tests (test/integration/): Nest modules built inside the test's own process,
// against the real Redis, each file on a Redis key prefix of its own that it deletes after;
// log lines are read back as parsed JSON from memory.
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { AppConfig } from '../../src/config/app-config';
import { loadConfig } from '../../src/config/load-config';
import { type AppLogger, createLogger, type ServiceName } from '../../src/logging/logger';
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
