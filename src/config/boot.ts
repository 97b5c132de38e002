import type { LogLevel as NestLogLevel } from '@nestjs/common';
import type { AppConfig } from './app-config';
import { InvalidConfigError } from './invalid-config.error';
import { loadConfig } from './load-config';

/** EX_CONFIG from sysexits.h: the configuration is wrong, so restarting will not help. */
export const EXIT_CONFIG = 78;

/**
 * Loads the configuration for a process entry point; on an invalid environment prints the
 * list of bad variables (no stack trace) and exits with EX_CONFIG.
 */
export function loadConfigOrExit(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof InvalidConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw error;
  }
}

/** Nest's log levels enabled by LOG_LEVEL. */
export function nestLogLevels(config: AppConfig): NestLogLevel[] {
  const order: NestLogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  const index = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 }[config.LOG_LEVEL];
  return order.slice(0, index + 1);
}
