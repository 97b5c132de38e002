import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hasCommand } from './processes.mts';
import { say, ScriptError } from './say.mts';

let updated = false;

/** A command on the PATH, or (when it has a slash) a file the package ships, e.g. a plugin. */
function isPresent(binary: string): boolean {
  return binary.includes('/') ? existsSync(binary) : hasCommand(binary);
}

/**
 * Makes sure `binary` is on the PATH (or, given as a path, exists), installing Debian's `pkg`
 * with apt-get when it is not.
 * Needs root (as on the project's machines and CI); otherwise says which command to run.
 */
export function ensureDebianPackage(binary: string, pkg: string): void {
  if (isPresent(binary)) return;
  if (!hasCommand('apt-get')) {
    throw new ScriptError(
      pkg,
      `${binary} is not installed and apt-get is not available`,
      `install ${pkg} with your package manager`,
    );
  }
  if (process.getuid?.() !== 0) {
    throw new ScriptError(pkg, `${binary} is not installed`, `sudo apt-get install -y ${pkg}`);
  }
  say(pkg, `${binary} not found: installing Debian's ${pkg} with apt-get (one time)`);
  const run = (args: string[]): void => {
    const result = spawnSync('apt-get', args, {
      stdio: ['ignore', 2, 2], // stdout too goes to stderr: callers may print JSON on stdout
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (result.status !== 0) {
      throw new ScriptError(
        pkg,
        `apt-get ${args.join(' ')} failed (exit ${result.status})`,
        `run it by hand to see why: apt-get ${args.join(' ')}`,
      );
    }
  };
  if (!updated) {
    run(['update', '-q']);
    updated = true;
  }
  run(['install', '-y', '-q', '--no-install-recommends', pkg]);
  if (!isPresent(binary)) {
    throw new ScriptError(pkg, `${pkg} installed but ${binary} is still not there`);
  }
}
