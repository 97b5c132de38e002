import { ensureSpoolUsable } from './logging/spool-check';
import type { AppConfig } from './config/app-config';
import { InvalidConfigError } from './config/invalid-config.error';
import { loadConfig } from './config/load-config';

/** EX_CONFIG from sysexits.h: the configuration is wrong, so restarting will not help. */
export const EXIT_CONFIG = 78;

/**
 * Loads the configuration for a process entry point; on an invalid environment prints the
 * list of bad variables (no stack trace) and exits with EX_CONFIG.
 */
export function loadConfigOrExit(): AppConfig {
  try {
    const config = loadConfig();
    ensureSpoolUsable(config);
    return config;
  } catch (error) {
    if (error instanceof InvalidConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw error;
  }
}
