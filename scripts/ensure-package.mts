// node scripts/ensure-package.mts <binary> <debian-package>: install the package when the
// binary is missing (used by the e2e suite for nginx and chromium).
import { ensureDebianPackage } from './lib/debian.mts';
import { runMain } from './lib/main.mts';

runMain(() => {
  const [binary, pkg] = process.argv.slice(2);
  if (!binary || !pkg) {
    process.stderr.write('Usage: node scripts/ensure-package.mts <binary> <debian-package>\n');
    return Promise.resolve(2);
  }
  ensureDebianPackage(binary, pkg);
  return Promise.resolve(0);
});
