import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The version in the package's own package.json, read when asked. The CLI runs from
 * `dist/cli/` (or `src/cli/` under ts-jest): both are two folders below the package root,
 * wherever the package was installed, and a bin linked into node_modules/.bin still runs from
 * its real path.
 */
export function packageVersion(dir: string = __dirname): string {
  const file = join(dir, '..', '..', 'package.json');
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the version from ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const { name, version } = (manifest ?? {}) as { name?: unknown; version?: unknown };
  if (name !== 'threadline' || typeof version !== 'string') {
    throw new Error(`${file} is not threadline's package.json: reinstall the package`);
  }
  return version;
}
