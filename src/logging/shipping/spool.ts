import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { FILE_MODE, FOLDER_MODE, writeFileAtomic } from './spool-lease';

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

/** What {@link Spool.append} stored: every line, or, when the disk refused, fewer and why. */
export interface AppendResult {
  lines: number;
  error?: NodeJS.ErrnoException;
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
 *
 * A write the disk refuses (full, say) is cut back to the last whole entry, so that no torn
 * entry is ever read: the lines it held are not spooled, and the caller counts them.
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
    mkdirSync(dir, { recursive: true, mode: FOLDER_MODE });
    for (const name of readdirSync(dir).sort()) {
      const match = SEGMENT_FILE.exec(name);
      if (match) this.segments.set(Number(match[1]), statSync(join(dir, name)).size);
    }
    this.cursor = this.readCursor();
    this.lastSegment = Math.max(this.cursor.segment, ...this.segments.keys());
    this.repairAndCount();
  }

  /** Opens (or creates) the spool in `dir`. */
  static open(dir: string, segmentBytes: number): Spool {
    return new Spool(dir, segmentBytes);
  }

  /**
   * Appends whole entries holding `lines` log lines; returns how many were spooled. When the
   * disk refuses, what was written is cut back to its last whole entry, and the segment's
   * delivered part is freed to try once more.
   */
  append(data: Buffer, lines: number): AppendResult {
    const first = this.tryAppend(data, lines);
    if (first.error === undefined || !this.freeDelivered()) return first;
    const rest = this.tryAppend(data.subarray(first.bytes), lines - first.lines);
    return { lines: first.lines + rest.lines, error: rest.error };
  }

  private tryAppend(data: Buffer, lines: number): AppendResult & { bytes: number } {
    let size = this.segments.get(this.lastSegment) ?? 0;
    if (this.writeFd !== undefined && size > 0 && size + data.length > this.segmentBytes) {
      this.nextSegment();
      size = 0;
    }
    let written = 0;
    try {
      this.writeFd ??= openSync(join(this.dir, segmentName(this.lastSegment)), 'a', FILE_MODE);
      while (written < data.length) {
        const n = writeSync(this.writeFd, data, written);
        if (n === 0)
          throw Object.assign(new Error('the spool file took no bytes'), { code: 'EIO' });
        written += n;
      }
      this.stored(size, data.length, lines);
      return { lines, bytes: data.length };
    } catch (error) {
      const kept = wholeEntries(data.subarray(0, written));
      this.cutBack(size + kept.cut, written > kept.cut);
      this.stored(size, kept.cut, kept.lines);
      return { lines: kept.lines, bytes: kept.cut, error: error as NodeJS.ErrnoException };
    }
  }

  private stored(size: number, bytes: number, lines: number): void {
    if (bytes === 0 && !this.segments.has(this.lastSegment)) return;
    this.segments.set(this.lastSegment, size + bytes);
    this.backlogBytes += bytes;
    this.backlogLines += lines;
  }

  /** Removes a torn tail; where even that fails, leaves it past the segment's known end. */
  private cutBack(length: number, torn: boolean): void {
    if (!torn || this.writeFd === undefined) return;
    try {
      ftruncateSync(this.writeFd, length);
    } catch {
      // Appends go to the file's end: the next ones must go to a new segment, and reads of
      // this one stop at `length`. Reopening cuts the tail (repairAndCount).
      this.segments.set(this.lastSegment, length);
      this.nextSegment();
    }
  }

  private nextSegment(): void {
    if (this.writeFd !== undefined) closeSync(this.writeFd);
    this.writeFd = undefined;
    this.lastSegment += 1;
  }

  /** When every line of the segment being written is delivered, starts a new one (freeing it). */
  private freeDelivered(): boolean {
    const { segment, offset } = this.cursor;
    const size = this.segments.get(this.lastSegment) ?? 0;
    if (segment !== this.lastSegment || offset === 0 || offset < size) return false;
    this.nextSegment();
    this.moveCursor({ segment: this.lastSegment, offset: 0 });
    return true;
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
    try {
      writeFileAtomic(join(this.dir, CURSOR_FILE), `${next.segment} ${next.offset}\n`);
    } catch {
      // A full disk, say: the next move writes it again. Until then a restart resends from the
      // cursor on disk, and Elasticsearch answers 409 for what it has.
    }
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

  /**
   * Counts the backlog, and cuts off the half entry a process killed while appending (or a
   * disk that filled, where the cut itself failed) may have left at a segment's end.
   */
  private repairAndCount(): void {
    for (const [segment, size] of this.segments) {
      const file = join(this.dir, segmentName(segment));
      const content = readFileSync(file);
      const { cut } = wholeEntries(content);
      if (cut < size) {
        const fd = openSync(file, 'r+');
        ftruncateSync(fd, cut);
        closeSync(fd);
        this.segments.set(segment, cut);
      }
      if (segment < this.cursor.segment) continue;
      const from = segment === this.cursor.segment ? Math.min(this.cursor.offset, cut) : 0;
      const rest = content.subarray(from, cut);
      this.backlogBytes += rest.length;
      this.backlogLines += wholeEntries(rest).lines;
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

/** The entries (action line + document line) of a `_bulk` body. */
export function splitEntries(body: Buffer): Buffer[] {
  const entries: Buffer[] = [];
  let start = 0;
  while (start < body.length) {
    const { cut } = wholeEntries(firstEntry(body, start));
    if (cut === 0) break;
    entries.push(body.subarray(start, start + cut));
    start += cut;
  }
  return entries;
}

function firstEntry(body: Buffer, start: number): Buffer {
  const first = body.indexOf(NEWLINE, start);
  const second = first === -1 ? -1 : body.indexOf(NEWLINE, first + 1);
  return body.subarray(start, second === -1 ? body.length : second + 1);
}
