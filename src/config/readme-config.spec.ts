import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppConfig } from './app-config';

// The README's configuration table is the user's reference: it must name every variable.
describe('README configuration table', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const documented = new Set([...readme.matchAll(/^\| `([A-Z_]+)` +\|/gm)].map((m) => m[1]));

  it.each(Object.keys(new AppConfig()))('documents %s', (variable) => {
    expect(documented).toContain(variable);
  });

  it('documents each default as the code declares it', () => {
    const config = new AppConfig();
    for (const [variable, value] of Object.entries(config)) {
      const row = new RegExp(`^\\| \`${variable}\` +\\| \`${String(value)}\``, 'm');
      expect({ variable, documented: row.test(readme) }).toEqual({ variable, documented: true });
    }
  });
});
