// node scripts/ensure-package.mts <binary> <debian-package>: install the package when the
// binary is missing (used by the e2e suite for nginx, rsyslog and chromium). <binary> may be
// a path instead (it has a slash): for a package that ships no command, e.g. an rsyslog plugin.
import { ensureDebianPackage } from './lib/debian.mts';
import { runMain } from './lib/main.mts';

runMain(() => {
  const [binary, pkg] = process.argv.slice(2);
  if (!binary || !pkg) {
    process.stderr.write(
      'Usage: node scripts/ensure-package.mts <binary|/path/of/a/file> <debian-package>\n',
    );
    return Promise.resolve(2);
  }
  ensureDebianPackage(binary, pkg);
  return Promise.resolve(0);
});
