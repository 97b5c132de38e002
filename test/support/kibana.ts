// The committed Kibana saved objects, read the way the tests need them.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './services';

export interface SavedObject {
  id: string;
  type: string;
  attributes: Record<string, unknown>;
  references: { id: string; name: string; type: string }[];
}

export function readSavedObjects(): SavedObject[] {
  const dir = join(repoRoot, 'kibana-dashboards');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.ndjson'))
    .flatMap((file) =>
      readFileSync(join(dir, file), 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as SavedObject),
    );
}

/** A saved search's Lucene query. */
export function searchQuery(search: SavedObject): string {
  const meta = search.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string };
  return (JSON.parse(meta.searchSourceJSON) as { query: { query: string } }).query.query;
}

/**
 * The ID field a saved search is keyed by: its query holds exactly one `<id field>:*`, which a
 * link (or a person) replaces with `<id field>:"<value>"` to follow one flow.
 */
export function idFieldOf(query: string): string | undefined {
  const keys = [...query.matchAll(/\b(request_id|correlation_id|task_id):\*/g)].map((m) => m[1]);
  return keys.length === 1 ? keys[0] : undefined;
}

/** The query for one ID: the saved search's, with that value in place of the wildcard. */
export function queryFor(search: SavedObject, value: string): string {
  const query = searchQuery(search);
  const field = idFieldOf(query);
  if (!field) throw new Error(`saved search ${search.id} is keyed by no ID field: ${query}`);
  return query.replace(`${field}:*`, `${field}:"${value}"`);
}
