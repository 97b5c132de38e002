// Kibana saved objects as files: kibana-dashboards/*.ndjson, one file per object type, one
// object per line, keys sorted, objects sorted by id. The import sends them all; an export
// from Kibana is normalised back into the same files, so that a round trip through Kibana
// changes only what was edited there.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SavedObject {
  id: string;
  type: string;
  attributes: Record<string, unknown>;
  references: { id: string; name: string; type: string }[];
  [key: string]: unknown;
}

/** The file each saved-object type lives in. */
export const FILE_OF_TYPE: Record<string, string> = {
  'index-pattern': 'data-view.ndjson',
  search: 'searches.ndjson',
  visualization: 'visualizations.ndjson',
  lens: 'visualizations.ndjson',
  dashboard: 'dashboard.ndjson',
};

/** Fields Kibana adds to an export that change on every save or differ between clusters. */
const VOLATILE = [
  'updated_at',
  'created_at',
  'created_by',
  'updated_by',
  'version',
  'namespaces',
  'originId',
];

/** Parses NDJSON saved objects; the export's summary line (`exportedCount`) is left out. */
export function parseSavedObjects(ndjson: string): SavedObject[] {
  return ndjson
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as SavedObject | { exportedCount: number })
    .filter((object): object is SavedObject => 'id' in object && 'type' in object);
}

/** JSON with object keys in sorted order at every depth: a stable text for a stable object. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

/** The files (name → content) that hold `objects`, as committed. */
export function toFiles(objects: SavedObject[]): Map<string, string> {
  const byFile = new Map<string, SavedObject[]>();
  for (const object of objects) {
    const file = FILE_OF_TYPE[object.type] ?? `${object.type}.ndjson`;
    const clean = Object.fromEntries(
      Object.entries(object).filter(([key]) => !VOLATILE.includes(key)),
    ) as SavedObject;
    byFile.set(file, [...(byFile.get(file) ?? []), clean]);
  }
  const files = new Map<string, string>();
  for (const [file, list] of [...byFile].sort(([a], [b]) => (a < b ? -1 : 1))) {
    list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    files.set(file, list.map((object) => `${stableJson(object)}\n`).join(''));
  }
  return files;
}

/** Every saved object committed in `dir`. */
export function readSavedObjects(dir: string): SavedObject[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.ndjson'))
    .sort()
    .flatMap((file) => parseSavedObjects(readFileSync(join(dir, file), 'utf8')));
}
