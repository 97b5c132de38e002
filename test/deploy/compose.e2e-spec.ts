// docker-compose.yml and the Dockerfile, checked without a Docker engine: the compose file
// against the Compose Specification's schema, every file it mounts or builds from (and every
// file the Dockerfile copies) present in the repository, and the Dockerfile through hadolint.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { parse } from 'yaml';
import { repoRoot } from '../support/services';
import { composeSchema, hadolint } from '../support/tools';

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  volumes?: (string | { type: string; source: string })[];
  healthcheck?: unknown;
  depends_on?: Record<string, { condition: string }>;
  command?: string[];
}
interface Compose {
  services: Record<string, Service>;
}

const composeText = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8');
// Merge keys (<<: *app) resolved, as docker compose does.
const compose = parse(composeText, { merge: true }) as Compose;

describe('docker-compose.yml', () => {
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

  it('passes hadolint', () => {
    const result = spawnSync(hadolint(), ['--format', 'json', 'Dockerfile'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(JSON.parse(result.stdout || '[]')).toEqual([]);
    expect(result.status).toBe(0);
  });
});
