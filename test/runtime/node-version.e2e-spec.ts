// The project runs on Node 24 LTS, taken from the `node` devDependency by every npm script.
import { execFileSync } from 'node:child_process';

describe('runtime', () => {
  it('runs the tests on Node 24', () => {
    expect(Number(process.versions.node.split('.')[0])).toBe(24);
  });

  it('puts Node 24 first on the PATH of npm scripts', () => {
    const version = execFileSync('node', ['--version'], { encoding: 'utf8' }).trim();
    expect(version).toMatch(/^v24\./);
  });
});
