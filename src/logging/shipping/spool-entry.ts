import type { LogEntry } from './shipping-target';

/**
 * How a {@link LogEntry} is written in the spool: two lines, a header naming the entry's id,
 * then the document, so that entries are cut and counted by newlines alone (spool.ts). The
 * header says nothing of where the line goes: each target frames entries its own way.
 *
 * Spools of version 1 (spool-lease.ts) hold `_bulk` entries instead, whose header is
 * Elasticsearch's action, `{"create":{"_id":"<id>"}}`: {@link decodeEntries} reads both, so
 * that a process upgraded with lines still spooled, or one adopting an older process's spool,
 * delivers them all.
 * @see docs/log-shipping.md#the-spool-on-disk
 */
export function encodeEntry(id: string, document: string): string {
  return `{"id":${JSON.stringify(id)}}\n${document}\n`;
}

/** Spooled entries read back, and any whose header cannot be read (a damaged disk). */
export interface DecodedEntries {
  entries: LogEntry[];
  /** Entries whose header names no id (a damaged disk): to be dead-lettered, never sent. */
  unreadable: { header: string; document: Buffer }[];
}

const NEWLINE = 0x0a;

/** The entries of a run of whole spooled entries (what Spool.read returns), in order. */
export function decodeEntries(body: Buffer): DecodedEntries {
  const decoded: DecodedEntries = { entries: [], unreadable: [] };
  let start = 0;
  while (start < body.length) {
    const headerEnd = body.indexOf(NEWLINE, start);
    if (headerEnd === -1) break;
    const documentEnd = body.indexOf(NEWLINE, headerEnd + 1);
    if (documentEnd === -1) break;
    const document = body.subarray(headerEnd + 1, documentEnd);
    const header = body.toString('utf8', start, headerEnd);
    const id = idOf(header);
    if (id === undefined) decoded.unreadable.push({ header, document });
    else decoded.entries.push({ id, document });
    start = documentEnd + 1;
  }
  return decoded;
}

/** The id in a header of either version, or undefined when it names none. */
function idOf(header: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(header);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { id, create } = parsed as { id?: unknown; create?: { _id?: unknown } };
  // Version 2, then version 1 (a `_bulk` create action).
  const found = id ?? create?._id;
  return typeof found === 'string' && found !== '' ? found : undefined;
}
