// After the e2e suite: stop the services that the setup started (none it found running).
const { spawnSync } = require('node:child_process');
const path = require('node:path');

module.exports = async function globalTeardown() {
  const started = globalThis.__THREADLINE_STARTED__ ?? [];
  // Run once per project that uses it: the first run stops them, the others find none.
  globalThis.__THREADLINE_STARTED__ = [];
  if (started.length === 0 || process.env.THREADLINE_KEEP_SERVICES === '1') return;
  const root = path.resolve(__dirname, '..', '..');
  spawnSync(process.execPath, [path.join(root, 'scripts', 'services.mts'), 'down', ...started], {
    cwd: root,
    stdio: 'inherit',
  });
};
