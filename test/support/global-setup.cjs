// Before the e2e suite: make Redis and Elasticsearch answer, starting them if needed,
// and remember which ones this run started so that the teardown stops only those.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

module.exports = async function globalSetup() {
  const root = path.resolve(__dirname, '..', '..');
  const result = spawnSync(
    process.execPath,
    [path.join(root, 'scripts', 'services.mts'), 'up', '--json'],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) {
    throw new Error(`npm run services -- up failed (exit ${result.status}); see the lines above`);
  }
  const services = JSON.parse(result.stdout);
  // Each project that uses it (integration, e2e) runs this setup: keep what an earlier one started.
  globalThis.__THREADLINE_STARTED__ = [
    ...(globalThis.__THREADLINE_STARTED__ ?? []),
    ...services.filter((s) => s.state === 'started').map((s) => s.name),
  ];
};
