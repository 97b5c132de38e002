// The Kibana saved objects in kibana-dashboards/, checked as Kibana's import would read them:
// well-formed, every reference resolving, every link landing on a saved search keyed by the
// field it links from, and a round trip through an export changing nothing.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/services';
import { type SavedObject, idFieldOf, readSavedObjects, searchQuery } from '../support/kibana';

const DIR = join(repoRoot, 'kibana-dashboards');
const objects = readSavedObjects();
const byKey = new Map(objects.map((o) => [`${o.type}:${o.id}`, o]));
const ofType = (type: string): SavedObject[] => objects.filter((o) => o.type === type);
const parse = (text: unknown): unknown => JSON.parse(String(text));

describe('Kibana saved objects', () => {
  it('are objects with type, id, attributes and references, each id once', () => {
    expect(objects.length).toBeGreaterThanOrEqual(11);
    for (const object of objects) {
      expect(Object.keys(object)).toEqual(
        expect.arrayContaining(['type', 'id', 'attributes', 'references']),
      );
      expect(typeof object.type).toBe('string');
      expect(object.id).toMatch(/^threadline-/);
      expect(typeof object.attributes).toBe('object');
      expect(Array.isArray(object.references)).toBe(true);
    }
    expect(byKey.size).toBe(objects.length);
  });

  it('reference only objects that are in the files, by the names their JSON uses', () => {
    for (const object of objects) {
      for (const reference of object.references) {
        expect([object.id, byKey.has(`${reference.type}:${reference.id}`)]).toEqual([
          object.id,
          true,
        ]);
      }
      const meta = object.attributes.kibanaSavedObjectMeta as
        { searchSourceJSON?: string } | undefined;
      if (meta?.searchSourceJSON !== undefined) {
        const source = parse(meta.searchSourceJSON) as { indexRefName?: string; query?: unknown };
        expect(source.query).toBeDefined();
        if (source.indexRefName) {
          expect(object.references.map((r) => r.name)).toContain(source.indexRefName);
        }
      }
      for (const key of ['visState', 'uiStateJSON', 'optionsJSON', 'fieldFormatMap']) {
        if (key in object.attributes) expect(() => parse(object.attributes[key])).not.toThrow();
      }
    }
    const [dashboard] = ofType('dashboard');
    const panels = parse(dashboard?.attributes.panelsJSON) as {
      panelIndex: string;
      panelRefName: string;
    }[];
    expect(panels).toHaveLength(dashboard?.references.length ?? -1);
    for (const panel of panels) {
      expect(dashboard?.references.map((r) => r.name)).toContain(
        `${panel.panelIndex}:${panel.panelRefName}`,
      );
    }
    // The dashboard shows every saved search and every visualization.
    expect(new Set(dashboard?.references.map((r) => r.id))).toEqual(
      new Set([...ofType('search'), ...ofType('visualization')].map((o) => o.id)),
    );
  });

  it('have saved searches in Lucene, each keyed by one ID field, with the IDs side by side', () => {
    const searches = ofType('search');
    expect(searches.map((s) => s.attributes.title).sort()).toEqual(
      [
        'Errors with their IDs',
        'Flow by correlation_id',
        'Request by request_id',
        'Slow tasks',
        'Task lifecycle by task_id',
      ].sort(),
    );
    for (const search of searches) {
      const source = parse(
        (search.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON,
      ) as {
        query: { language: string };
      };
      expect(source.query.language).toBe('lucene');
      expect(idFieldOf(searchQuery(search))).toMatch(/^(request_id|correlation_id|task_id)$/);
      expect(search.attributes.columns).toEqual(
        expect.arrayContaining(['request_id', 'correlation_id', 'task_id']),
      );
    }
  });

  it('turn each ID in the data view into a link to the saved search keyed by that ID', () => {
    const [dataView] = ofType('index-pattern');
    expect(dataView?.attributes).toMatchObject({
      timeFieldName: '@timestamp',
      title: 'logs-threadline*',
    });
    const formats = parse(dataView?.attributes.fieldFormatMap) as Record<
      string,
      { id: string; params: { urlTemplate: string } }
    >;
    expect(Object.keys(formats).sort()).toEqual(['correlation_id', 'request_id', 'task_id']);
    for (const [field, format] of Object.entries(formats)) {
      expect(format.id).toBe('url');
      const view = /#\/view\/([^?]+)\?/.exec(format.params.urlTemplate)?.[1] ?? '';
      const search = byKey.get(`search:${view}`);
      expect([field, search?.id]).toEqual([field, view]);
      if (!search) continue;
      const query = searchQuery(search);
      expect(idFieldOf(query)).toBe(field);
      // The link's query is the saved search's, with that ID in place of the wildcard.
      const linked = /query:'(.*)'\)\)$/.exec(format.params.urlTemplate)?.[1] ?? '';
      expect(decodeURIComponent(linked)).toBe(query.replace(`${field}:*`, `${field}:"{{value}}"`));
    }
  });

  it('come back byte for byte from an export, whatever its order and extra fields', () => {
    const exported = [...objects]
      .reverse()
      .map((o) =>
        JSON.stringify({
          ...o,
          updated_at: '2026-01-01T00:00:00.000Z',
          version: 'WzEsMV0=',
          namespaces: ['default'],
        }),
      )
      .join('\n');
    const normalise = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { parseSavedObjects, toFiles } from './scripts/lib/kibana.mts';
         let text = ''; process.stdin.on('data', (c) => (text += c));
         process.stdin.on('end', () => process.stdout.write(JSON.stringify([...toFiles(parseSavedObjects(text))])));`,
      ],
      {
        cwd: repoRoot,
        input: `${exported}\n{"exportedCount":${objects.length},"missingRefCount":0}\n`,
        encoding: 'utf8',
      },
    );
    expect(normalise.stderr).toBe('');
    const files = new Map(JSON.parse(normalise.stdout) as [string, string][]);
    const committed = readdirSync(DIR)
      .filter((f) => f.endsWith('.ndjson'))
      .sort();
    expect([...files.keys()].sort()).toEqual(committed);
    for (const file of committed)
      expect(files.get(file)).toBe(readFileSync(join(DIR, file), 'utf8'));
  });
});
