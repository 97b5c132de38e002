import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { AppConfig } from '../../config/app-config';
import { ProblemException } from '../../problem/problem.exception';
import { BROWSER_MODULES, MODULES_PATH, TracePageController } from './trace-page.controller';

const SRC = join(__dirname, '..', '..');

/** The modules a browser module imports at run time (type-only imports are erased). */
function imports(module: string): string[] {
  const source = readFileSync(join(SRC, module.replace(/\.mjs$/, '.mts')), 'utf8');
  return [...source.matchAll(/^import\s+(?!type\s)[^;]*?from\s+'(\.{1,2}\/[^']+)';/gm)].map(
    (match) => relative(SRC, join(dirname(join(SRC, module)), match[1] ?? '')),
  );
}

describe(TracePageController.name, () => {
  const controller = new TracePageController({ KIBANA_URL: '' } as AppConfig);

  it('serves the page script and every module it imports, and only those', () => {
    const needed = new Set<string>();
    const visit = (module: string): void => {
      if (needed.has(module)) return;
      needed.add(module);
      imports(module).forEach(visit);
    };
    visit(BROWSER_MODULES[0]);
    expect(needed.size).toBeGreaterThan(1);
    expect([...needed].sort()).toEqual([...BROWSER_MODULES].sort());
  });

  it('loads the script as a module from where it is served', () => {
    expect(controller.search()).toContain(
      `<script type="module" src="${MODULES_PATH}${BROWSER_MODULES[0]}"></script>`,
    );
  });

  it('answers 404 for any other path under the assets', () => {
    expect(() => controller.module(['traces', 'trace.js'])).toThrow(ProblemException);
    expect(() => controller.module(['..', '..', 'package.json'])).toThrow(ProblemException);
  });
});
