// npm run kibana:import / kibana:export: what a person sees without a Kibana to talk to (no
// Kibana runs on these machines; the objects themselves are checked in saved-objects and
// saved-searches).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort, repoRoot } from '../support/services';

function kibana(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'kibana.mts'), ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run kibana:import / kibana:export', () => {
  it('explains itself with --help', () => {
    const help = kibana('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('npm run kibana:import -- --url <kibana>');
    expect(help.stdout).toContain('KIBANA_API_KEY');
  });

  it('names the fix when no address is given', () => {
    const run = kibana('import');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('no Kibana address given');
    expect(run.stderr).toContain('fix: pass --url http://localhost:5601');
  });

  it('says which address it could not reach, and what to check', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    for (const command of ['import', 'export']) {
      const run = kibana(command, '--url', url);
      expect([command, run.status]).toEqual([command, 1]);
      expect(run.stderr).toContain(`cannot reach ${url}/api/saved_objects/_${command}`);
      expect(run.stderr).toContain('fix: check --url');
    }
  });
});
