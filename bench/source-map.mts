// Compiled positions back to TypeScript ones, through the .js.map files `nest build` writes
// beside dist/'s files: enough of the source map format (version 3, VLQ mappings) to say
// which src/ line a profiled function of dist/ was written on.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** One mapping: generated column, and the source index, line and column it came from. */
type Segment = [column: number, source: number, line: number, sourceColumn: number];

/** Decodes a source map's `mappings`: one list of segments per generated line. */
export function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let source = 0;
  let line = 0;
  let sourceColumn = 0;
  for (const text of mappings.split(';')) {
    const segments: Segment[] = [];
    let column = 0;
    for (const field of text.split(',')) {
      if (field === '') continue;
      const values: number[] = [];
      let value = 0;
      let shift = 0;
      for (const char of field) {
        const digit = BASE64.indexOf(char);
        value += (digit & 31) << shift;
        if (digit & 32) {
          shift += 5;
        } else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += values[0] ?? 0;
      if (values.length >= 4) {
        source += values[1];
        line += values[2];
        sourceColumn += values[3];
        segments.push([column, source, line, sourceColumn]);
      }
    }
    lines.push(segments);
  }
  return lines;
}

interface LoadedMap {
  sources: string[];
  lines: Segment[][];
}

/**
 * Maps positions in the compiled files under `root` to their sources, as paths relative to
 * `root` (`src/tasks/tasks.service.ts:42`); undefined where a file has no map or no mapping.
 */
export class SourceMaps {
  private readonly root: string;
  private readonly maps = new Map<string, LoadedMap | undefined>();

  constructor(root: string) {
    this.root = root;
  }

  /** `line` and `column` are 0-based, as V8 gives them; the answer's line is 1-based. */
  original(file: string, line: number, column: number): string | undefined {
    const map = this.load(file);
    const segments = map?.lines[line];
    if (!map || !segments || segments.length === 0) return undefined;
    // The last mapping at or before the column; a function's start may precede the first.
    let found = segments[0];
    for (const segment of segments) {
      if (segment[0] > column) break;
      found = segment;
    }
    const source = map.sources[found[1]];
    return source === undefined ? undefined : `${source}:${found[2] + 1}`;
  }

  private load(file: string): LoadedMap | undefined {
    if (this.maps.has(file)) return this.maps.get(file);
    let loaded: LoadedMap | undefined;
    const path = `${file}.map`;
    if (existsSync(path)) {
      const raw = JSON.parse(readFileSync(path, 'utf8')) as {
        sources: string[];
        sourceRoot?: string;
        mappings: string;
      };
      const base = resolve(dirname(file), raw.sourceRoot ?? '');
      loaded = {
        sources: raw.sources.map((source) => relative(this.root, resolve(base, source))),
        lines: decodeMappings(raw.mappings),
      };
    }
    this.maps.set(file, loaded);
    return loaded;
  }
}
