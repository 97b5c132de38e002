// docker-compose.yml and the Dockerfile, checked without a Docker engine: the compose file
// against the Compose Specification's schema, every file it mounts or builds from (and every
// file the Dockerfile copies) present in the repository, and the Dockerfile through hadolint.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { parse } from 'yaml';
import { NODE_FLAGS, RUNTIME_ENV } from '../../scripts/lib/node-flags.mjs';
import { repoRoot } from '../support/services';
import { composeSchema, hadolint } from '../support/tools';

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  volumes?: (string | { type: string; source: string })[];
  healthcheck?: unknown;
  depends_on?: Record<string, { condition: string }>;
  command?: string[];
  ports?: (string | number)[];
  environment?: Record<string, string>;
}
interface Compose {
  services: Record<string, Service>;
}

const composeText = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8');
// Merge keys (<<: *app) resolved, as docker compose does.
const compose = parse(composeText, { merge: true }) as Compose;

/**
 * The Compose Specification's interpolation, for the forms it defines: `$$`, `$VAR`, `${VAR}`,
 * `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}` (and `:+`/`+`). Throws,
 * as docker compose does, when a required variable is missing.
 * @see https://github.com/compose-spec/compose-spec/blob/main/spec.md#interpolation
 */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(
    /\$(?:(\$)|([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])([^}]*))?\})/g,
    (
      _match,
      dollar?: string,
      bare?: string,
      name?: string,
      colon?: string,
      op?: string,
      arg?: string,
    ) => {
      if (dollar) return '$';
      if (bare) return env[bare] ?? '';
      const value = env[name ?? ''];
      const unset = colon ? value === undefined || value === '' : value === undefined;
      if (op === '-') return unset ? (arg ?? '') : (value ?? '');
      if (op === '+') return unset ? '' : (arg ?? '');
      if (op === '?') {
        if (unset) throw new Error(`required variable ${name} is missing a value: ${arg}`);
        return value ?? '';
      }
      return value ?? '';
    },
  );
}

/** docker-compose.yml as docker compose would run it with `env` in the shell. */
const composeWith = (env: Record<string, string>): Compose =>
  parse(interpolate(composeText, env), { merge: true }) as Compose;

describe('docker-compose.yml', () => {
  it('refuses to start without API_KEYS, naming it, and ships no key of its own', () => {
    expect(() => composeWith({})).toThrow(/API_KEYS is missing a value: set API_KEYS/);
    expect(() => composeWith({ API_KEYS: '' })).toThrow(/API_KEYS/);
    const key = 'me:0123456789abcdef0123456789abcdef:high+admin';
    const stack = composeWith({ API_KEYS: key });
    for (const name of ['api', 'worker', 'setup']) {
      expect([name, stack.services[name]?.environment?.API_KEYS]).toEqual([name, key]);
    }
    // No default key hides in the file.
    expect(composeText).not.toMatch(/API_KEYS:-/);
  });

  it('publishes nginx, and every other port, on 127.0.0.1 unless THREADLINE_BIND says otherwise', () => {
    const local = composeWith({ API_KEYS: 'me:0123456789abcdef0123456789abcdef' });
    expect(local.services.nginx?.ports).toEqual(['127.0.0.1:8080:80']);
    for (const [name, service] of Object.entries(local.services)) {
      for (const port of service.ports ?? [])
        expect([name, String(port)]).toEqual([name, expect.stringMatching(/^127\.0\.0\.1:/)]);
    }
    const open = composeWith({
      API_KEYS: 'me:0123456789abcdef0123456789abcdef',
      THREADLINE_BIND: '0.0.0.0',
    });
    expect(open.services.nginx?.ports).toEqual(['0.0.0.0:8080:80']);
  });

  it('trusts X-Forwarded-For from nginx on the compose network only', () => {
    const stack = composeWith({ API_KEYS: 'me:0123456789abcdef0123456789abcdef' });
    expect(stack.services.api?.environment?.TRUST_PROXY).toBe('uniquelocal');
    expect(stack.services.api?.ports).toBeUndefined();
  });

  it('is valid against the Compose Specification', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(composeSchema());
    const valid = validate(parse(composeText, { merge: true }));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('mounts and builds only from files that exist in the repository', () => {
    const sources = Object.values(compose.services).flatMap((service) => [
      ...(service.build
        ? [join(service.build.context, service.build.dockerfile ?? 'Dockerfile')]
        : []),
      ...(service.volumes ?? [])
        .map((volume) => (typeof volume === 'string' ? volume.split(':')[0] : volume.source))
        .filter((source): source is string => source?.startsWith('./') === true),
    ]);
    expect(sources).toEqual(
      expect.arrayContaining([
        'Dockerfile',
        './elk/nginx/nginx.conf.template',
        './elk/filebeat/filebeat.yml',
      ]),
    );
    for (const source of sources)
      expect([source, existsSync(join(repoRoot, source))]).toEqual([source, true]);
  });

  it('runs the stack the issue names, with pinned versions and health checks', () => {
    const { services } = compose;
    expect(Object.keys(services).sort()).toEqual(
      ['api', 'elasticsearch', 'filebeat', 'kibana', 'nginx', 'redis', 'setup', 'worker'].sort(),
    );
    for (const [name, service] of Object.entries(services)) {
      if (service.image && !service.build)
        expect([name, service.image]).toEqual([
          name,
          expect.stringMatching(/:\d+\.\d+\.\d+(-[a-z]+)?$/),
        ]);
    }
    const elastic = ['elasticsearch', 'kibana', 'filebeat'].map(
      (name) => services[name]?.image?.split(':')[1],
    );
    expect(new Set(elastic).size).toBe(1);
    expect(services.redis?.command).toEqual(
      expect.arrayContaining(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']),
    );
    for (const name of ['redis', 'elasticsearch', 'kibana', 'api', 'nginx']) {
      expect([name, services[name]?.healthcheck]).toEqual([name, expect.anything()]);
    }
    expect(services.filebeat?.depends_on?.setup?.condition).toBe('service_completed_successfully');
  });

  it('runs the API and the worker with the V8 flags npm start gives them', () => {
    expect(compose.services.api?.command).toEqual(['node', ...NODE_FLAGS, 'dist/main.js']);
    expect(compose.services.worker?.command).toEqual(['node', ...NODE_FLAGS, 'dist/worker.js']);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');

  it('copies only files that exist, into a multi-stage, non-root, Node 24 image', () => {
    const copies = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) =>
      (m[1] ?? '').split(' '),
    );
    expect(copies.length).toBeGreaterThan(3);
    for (const source of copies)
      expect([source, existsSync(join(repoRoot, source))]).toEqual([source, true]);
    const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const image of stages) expect(image).toMatch(/^node:24\.\d+\.\d+-/);
    // The official image's user "node", by number.
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
  });

  it('runs the API with the V8 flags and the environment npm start gives it', () => {
    const cmd = /^CMD (.+)$/m.exec(dockerfile)?.[1] ?? '[]';
    expect(JSON.parse(cmd)).toEqual(['node', ...NODE_FLAGS, 'dist/main.js']);
    // The image's ENV, which compose's api and worker services inherit.
    const env = /^ENV ((?:.*\\\n)*.*)$/m.exec(dockerfile)?.[1] ?? '';
    for (const [name, value] of Object.entries(RUNTIME_ENV))
      expect(env).toMatch(new RegExp(`(^|\\s)${name}=${value}(\\s|$)`));
  });

  it('passes hadolint', () => {
    const result = spawnSync(hadolint(), ['--format', 'json', 'Dockerfile'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(JSON.parse(result.stdout || '[]')).toEqual([]);
    expect(result.status).toBe(0);
  });
});
