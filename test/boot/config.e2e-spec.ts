// A bad environment stops the API at boot, naming every bad variable, before it opens a port.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../support/services';

function boot(env: Record<string, string>): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [join(repoRoot, 'dist', 'main.js')], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stderr: result.stderr };
}

describe('API boot with a bad environment', () => {
  it('stops on a bad PORT with a message naming PORT and its form', () => {
    const { status, stderr } = boot({ PORT: 'eighty' });
    expect(status).toBe(78);
    expect(stderr).toContain('PORT: must be a whole number from 1 to 65535, e.g. PORT=3000');
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  it('stops on a bad REDIS_URL with a message naming REDIS_URL, never echoing the value', () => {
    const { status, stderr } = boot({ REDIS_URL: 'http://admin:s3cret@127.0.0.1:6379' });
    expect(status).toBe(78);
    expect(stderr).toContain('REDIS_URL: must be a redis:// or rediss:// URL with a host');
    expect(stderr).not.toContain('s3cret');
  });

  it('names every bad variable at once', () => {
    const { status, stderr } = boot({ PORT: '70000', REDIS_URL: 'nope', LOG_LEVEL: 'chatty' });
    expect(status).toBe(78);
    expect(stderr).toContain('3 environment variable(s) are invalid');
    for (const variable of ['PORT', 'REDIS_URL', 'LOG_LEVEL']) {
      expect(stderr).toContain(`  - ${variable}: `);
    }
  });
});
