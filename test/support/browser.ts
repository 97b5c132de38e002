// A real headless Chromium (Debian's, installed on first use) driven by playwright-core.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { repoRoot } from './services';

const CHROMIUM = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  const ensured = spawnSync(
    process.execPath,
    [join(repoRoot, 'scripts', 'ensure-package.mts'), CHROMIUM, 'chromium'],
    { stdio: 'inherit' },
  );
  if (ensured.status !== 0) throw new Error('chromium is not installed and could not be installed');
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}
