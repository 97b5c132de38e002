import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/** A place in the spool: a segment file and a byte offset in it. */
export interface SpoolPosition {
  segment: number;
  offset: number;
}

/** Consecutive entries read from the spool: a ready `_bulk` body. */
export interface SpoolBatch {
  body: Buffer;
  lines: number;
  end: SpoolPosition;
}

const NEWLINE = 0x0a;
const SEGMENT_FILE = /^(\d{10})\.ndjson$/;
const CURSOR_FILE = 'cursor';

const segmentName = (segment: number): string => `${String(segment).padStart(10, '0')}.ndjson`;

/**
 * A directory of log lines on their way to Elasticsearch, in the order they were written.
 *
 * Each entry is two lines, a bulk action and the document (`{"create":{"_id":…}}\n{…}\n`), so
 * that any run of entries is already a `_bulk` request body. Entries are appended to numbered
 * segment files; a cursor file records how far delivery got. A segment is deleted once delivery
 * has passed it. Reopening the directory, in this process or the next, carries on from the
 * cursor: what was not delivered is read again (and a resend is harmless, since document ids
 * are fixed).
 */
export class Spool {
  /** Segment number → size in bytes, in order. */
  private readonly segments = new Map<number, number>();
  private cursor: SpoolPosition;
  private writeFd: number | undefined;
  private lastSegment: number;
  backlogBytes = 0;
  backlogLines = 0;

  private constructor(
    readonly dir: string,
    private readonly segmentBytes: number,
  ) {
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(dir).sort()) {
      const match = SEGMENT_FILE.exec(name);
      if (match) this.segments.set(Number(match[1]), statSync(join(dir, name)).size);
    }
    this.cursor = this.readCursor();
    this.lastSegment = Math.max(this.cursor.segment, ...this.segments.keys());
    this.repairTail();
    this.countBacklog();
  }

  /** Opens (or creates) the spool in `dir`. */
  static open(dir: string, segmentBytes: number): Spool {
    return new Spool(dir, segmentBytes);
  }

  /** Appends whole entries holding `lines` log lines. */
  append(data: Buffer, lines: number): void {
    let size = this.segments.get(this.lastSegment) ?? 0;
    if (this.writeFd !== undefined && size > 0 && size + data.length > this.segmentBytes) {
      closeSync(this.writeFd);
      this.writeFd = undefined;
      this.lastSegment += 1;
      size = 0;
    }
    this.writeFd ??= openSync(join(this.dir, segmentName(this.lastSegment)), 'a');
    writeSync(this.writeFd, data);
    this.segments.set(this.lastSegment, size + data.length);
    this.backlogBytes += data.length;
    this.backlogLines += lines;
  }

  /** The next undelivered entries, up to about `maxBytes` (at least one entry). */
  read(maxBytes: number): SpoolBatch | undefined {
    for (;;) {
      const { segment, offset } = this.cursor;
      const size = this.segments.get(segment) ?? 0;
      if (offset < size) return this.readFrom(segment, offset, size, maxBytes);
      if (segment >= this.lastSegment) return undefined;
      this.moveCursor({ segment: segment + 1, offset: 0 });
    }
  }

  /** Marks everything before `end` (a batch's end, holding `lines` lines) as delivered. */
  commit(end: SpoolPosition, lines: number): void {
    const size = this.segments.get(end.segment) ?? 0;
    this.backlogBytes -= end.offset - this.cursor.offset;
    this.backlogLines -= lines;
    const finished = end.offset >= size && end.segment < this.lastSegment;
    this.moveCursor(finished ? { segment: end.segment + 1, offset: 0 } : end);
  }

  get empty(): boolean {
    return this.backlogLines === 0;
  }

  close(): void {
    if (this.writeFd !== undefined) closeSync(this.writeFd);
    this.writeFd = undefined;
  }

  private readFrom(segment: number, offset: number, size: number, maxBytes: number): SpoolBatch {
    const fd = openSync(join(this.dir, segmentName(segment)), 'r');
    try {
      let length = Math.min(maxBytes, size - offset);
      for (;;) {
        const buffer = Buffer.allocUnsafe(length);
        const read = readSync(fd, buffer, 0, length, offset);
        const { cut, lines } = wholeEntries(buffer.subarray(0, read));
        // One entry longer than maxBytes: read on to its end.
        if (lines === 0 && offset + length < size) {
          length = Math.min(length * 2, size - offset);
          continue;
        }
        return { body: buffer.subarray(0, cut), lines, end: { segment, offset: offset + cut } };
      }
    } finally {
      closeSync(fd);
    }
  }

  private moveCursor(next: SpoolPosition): void {
    for (const segment of [...this.segments.keys()]) {
      if (segment >= next.segment) break;
      this.segments.delete(segment);
      unlinkSync(join(this.dir, segmentName(segment)));
    }
    this.cursor = next;
    const file = join(this.dir, CURSOR_FILE);
    writeFileSync(`${file}.tmp`, `${next.segment} ${next.offset}\n`);
    renameSync(`${file}.tmp`, file);
  }

  private readCursor(): SpoolPosition {
    const file = join(this.dir, CURSOR_FILE);
    const first = Math.min(...this.segments.keys());
    const start = { segment: Number.isFinite(first) ? first : 1, offset: 0 };
    if (!existsSync(file)) return start;
    const [segment, offset] = readFileSync(file, 'utf8').trim().split(' ').map(Number);
    if (segment === undefined || offset === undefined || !Number.isInteger(segment + offset)) {
      return start;
    }
    // Segments before the cursor were delivered; their deletion may not have happened.
    return segment < start.segment ? start : { segment, offset };
  }

  /** A process killed while appending may have left half an entry: cut it off. */
  private repairTail(): void {
    const size = this.segments.get(this.lastSegment);
    if (!size) return;
    const file = join(this.dir, segmentName(this.lastSegment));
    const { cut } = wholeEntries(readFileSync(file));
    if (cut === size) return;
    const fd = openSync(file, 'r+');
    ftruncateSync(fd, cut);
    closeSync(fd);
    this.segments.set(this.lastSegment, cut);
  }

  private countBacklog(): void {
    for (const [segment, size] of this.segments) {
      if (segment < this.cursor.segment) continue;
      const from = segment === this.cursor.segment ? this.cursor.offset : 0;
      if (from >= size) continue;
      const fd = openSync(join(this.dir, segmentName(segment)), 'r');
      const buffer = Buffer.allocUnsafe(size - from);
      readSync(fd, buffer, 0, buffer.length, from);
      closeSync(fd);
      this.backlogBytes += buffer.length;
      this.backlogLines += wholeEntries(buffer).lines;
    }
  }
}

/** The length of the whole entries (pairs of lines) at the start of `buffer`, and their count. */
export function wholeEntries(buffer: Buffer): { cut: number; lines: number } {
  let newlines = 0;
  let cut = 0;
  for (let i = buffer.indexOf(NEWLINE); i !== -1; i = buffer.indexOf(NEWLINE, i + 1)) {
    newlines += 1;
    if (newlines % 2 === 0) cut = i + 1;
  }
  return { cut, lines: Math.floor(newlines / 2) };
}
