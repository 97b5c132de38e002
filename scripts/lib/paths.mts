import { resolve } from 'node:path';

/** The repository root (this file lives in scripts/lib/). */
export const repoRoot = resolve(import.meta.dirname, '..', '..');

/** Data, logs and pid records of the services the project starts: gitignored. */
export const servicesDir = resolve(repoRoot, '.services');
