import { accessSync, constants, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AppConfig } from '../config/app-config';
import { InvalidConfigError } from '../config/invalid-config.error';
import { foreignEntries } from './shipping/spool-directory';
import { FOLDER_MODE } from './shipping/spool-lease';

/** How many foreign entries the boot message names before it says how many more. */
const FOREIGN_SHOWN = 5;

/**
 * The process refuses to start (called at boot, with the rest of the configuration's checks)
 * when the spool cannot be written, which would lose every line, or when LOG_SPOOL_DIR holds
 * anything the spool did not make: the spool adopts and deletes its own folders, so it must
 * never share a directory with anything else.
 */
export function ensureSpoolUsable(config: AppConfig): void {
  if (!config.LOG_SHIPPING) return;
  const dir = resolve(config.LOG_SPOOL_DIR);
  let foreign: string[];
  try {
    mkdirSync(dir, { recursive: true, mode: FOLDER_MODE });
    accessSync(dir, constants.W_OK);
    foreign = foreignEntries(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new InvalidConfigError([
      {
        variable: 'LOG_SPOOL_DIR',
        expected: `must be a writable directory; ${dir} is not (${code}). Point it elsewhere, or set LOG_SHIPPING=false`,
      },
    ]);
  }
  if (foreign.length === 0) return;
  const more = foreign.length - FOREIGN_SHOWN;
  const found = foreign.slice(0, FOREIGN_SHOWN).join(', ') + (more > 0 ? ` and ${more} more` : '');
  throw new InvalidConfigError([
    {
      variable: 'LOG_SPOOL_DIR',
      expected: `must be a directory of the log spool's own; ${dir} holds what the spool did not make: ${found}. The spool never adopts or deletes those. Point LOG_SPOOL_DIR at an empty or new directory, or move them out of ${dir} (a spool left by an older Threadline counts too: docs/log-shipping.md says how to send its lines)`,
    },
  ]);
}
