import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageVersion } from './version';

describe(packageVersion.name, () => {
  it("reads the version of the package's own package.json, two folders up", () => {
    const manifest = JSON.parse(
      readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'),
    ) as { version: string };
    expect(packageVersion()).toBe(manifest.version);
  });

  it('says which file it could not use, and what to do', () => {
    const root = mkdtempSync(join(tmpdir(), 'threadline-version-'));
    const cli = join(root, 'dist', 'cli');
    mkdirSync(cli, { recursive: true });
    expect(() => packageVersion(cli)).toThrow(
      `cannot read the version from ${join(root, 'package.json')}`,
    );
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'other', version: '9.9.9' }));
    expect(() => packageVersion(cli)).toThrow(/is not threadline's package.json: reinstall/);
    rmSync(root, { recursive: true, force: true });
  });
});
