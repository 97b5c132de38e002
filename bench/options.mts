// The command line both benchmark scripts share: --smoke, --quick and --out.
import { resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '..');

/** The value after `name` on the command line, if given. */
export const argument = (name: string): string | undefined => {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
};

/** Tiny sizes, to show the suite still works (CI). */
export const smoke = process.argv.includes('--smoke');
/** Each side once, at smaller sizes. */
export const quick = smoke || process.argv.includes('--quick');
/** The size of a run: full, --quick or --smoke. */
export const size = (full: number, quickSize: number, smokeSize: number): number =>
  smoke ? smokeSize : quick ? quickSize : full;
