// The `threadline` CLI as a user runs it: the compiled bin (dist/cli/threadline.js) in a
// process of its own, with only the environment a test gives it.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './services';

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The package's bin, as `npx threadline` runs it. */
export const CLI = join(repoRoot, 'dist', 'cli', 'threadline.js');

/**
 * Runs `threadline ...args` and resolves when it exits. Asynchronous, so that a server in the
 * test's own process can answer it.
 */
export function threadline(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}
