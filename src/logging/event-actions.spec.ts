import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_ACTIONS } from './event-actions.mjs';

const ROOT = join(__dirname, '..', '..');
const DASHBOARDS = join(ROOT, 'kibana-dashboards');
const KNOWN = new Set<string>(EVENT_ACTIONS);

/** The values a Lucene or KQL query asks of `event.action`: `event.action:(a OR b)`, `…:a`. */
function queried(query: string): string[] {
  const values: string[] = [];
  for (const match of query.matchAll(/event\.action\s*:\s*(\([^)]*\)|"[^"]*"|[\w-]+)/g)) {
    const term = match[1] ?? '';
    values.push(
      ...term
        .replace(/^\(|\)$/g, '')
        .split(/\s+(?:OR|AND)\s+/)
        .map((value) => value.trim().replace(/^"|"$/g, ''))
        .filter(Boolean),
    );
  }
  return values;
}

/**
 * Every `event.action` value a saved object names: in its queries (saved-object attributes
 * hold JSON inside strings, which is read too) and in filters on the field.
 */
function savedObjectActions(value: unknown, found: string[] = []): string[] {
  if (typeof value === 'string') {
    found.push(...queried(value));
    if (/^\s*[[{]/.test(value)) {
      try {
        savedObjectActions(JSON.parse(value) as unknown, found);
      } catch {
        // Not JSON after all: its queries are read above.
      }
    }
  } else if (Array.isArray(value)) {
    for (const item of value) savedObjectActions(item, found);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'event.action' && typeof item === 'string') found.push(item);
      else savedObjectActions(item, found);
    }
  }
  return found;
}

describe('EVENT_ACTION', () => {
  it('lists each value once', () => {
    expect(new Set(EVENT_ACTIONS).size).toBe(EVENT_ACTIONS.length);
  });

  it('holds every value the Kibana saved objects name', () => {
    const files = readdirSync(DASHBOARDS).filter((file) => file.endsWith('.ndjson'));
    const named = files.flatMap((file) =>
      readFileSync(join(DASHBOARDS, file), 'utf8')
        .split('\n')
        .filter((line) => line.trim())
        .flatMap((line) => savedObjectActions(JSON.parse(line) as unknown)),
    );
    // The dashboards filter on requests and on the task lifecycle: the reading works.
    expect(named).toEqual(expect.arrayContaining(['http-request', 'task-completed']));
    expect([...new Set(named)].filter((value) => !KNOWN.has(value))).toEqual([]);
  });

  it("holds the value nginx's access line carries", () => {
    const template = readFileSync(join(ROOT, 'elk', 'nginx', 'nginx.conf.template'), 'utf8');
    const named = [...template.matchAll(/"event\.action"\s*:\s*"([^"]*)"/g)].map((m) => m[1] ?? '');
    expect(named).toContain('http-request');
    expect(named.filter((value) => !KNOWN.has(value))).toEqual([]);
  });

  it('is what the code writes: no other file spells an event.action out', () => {
    const SRC = join(ROOT, 'src');
    const sources = (readdirSync(SRC, { recursive: true }) as string[]).filter(
      (file) => /\.m?ts$/.test(file) && !/\.spec\.ts$|event-actions\.mts$/.test(file),
    );
    const spelled = sources.flatMap((file) =>
      [...readFileSync(join(SRC, file), 'utf8').matchAll(/'event\.action':\s*'([^']*)'/g)].map(
        (m) => `${file}: ${m[1] ?? ''}`,
      ),
    );
    // The only exception: src/context imports no other folder of src (docs/architecture.md),
    // so its one line names its action itself. The value must still be in the vocabulary.
    expect(spelled).toEqual([join('context', 'http-context.middleware.ts') + ': id-replaced']);
    expect(KNOWN.has('id-replaced')).toBe(true);
  });
});
