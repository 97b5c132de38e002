/** What a flow list can ask for by status (`?status=`). */
export const FLOW_STATUS_FILTERS = ['failed', 'retried', 'slow', 'running', 'completed'] as const;
export type FlowStatusFilter = (typeof FLOW_STATUS_FILTERS)[number];

/**
 * Where a flow stands, from its tasks: `failed` when one failed for good, else `running` while
 * one is queued or running, else `completed` when it queued tasks and all completed, `none`
 * when it queued none (a request refused, a status poll).
 */
export type FlowStatus = 'failed' | 'running' | 'completed' | 'none';

/** Flows a list answers with at most (`?limit=`), and without one. */
export const FLOWS_MAX_LIMIT = 100;
export const FLOWS_DEFAULT_LIMIT = 20;

/**
 * The flows of a window a list reads at most: the most recent ones (by their last line), so
 * that a busy hour costs a bounded search. A window with more says so (`truncated`).
 */
export const FLOWS_SCANNED = 5_000;

/** Which flows to list: a time window, the filters, a page. */
export interface FlowFilter {
  /** Lines at or after (ISO 8601, or date math like now-1h). */
  since: string;
  /** Lines at or before. */
  until: string;
  status?: FlowStatusFilter;
  /** Flows with a line of this task type, queue, or service. */
  taskType?: string;
  queue?: string;
  service?: string;
  /** Flows that lasted at least this long (first to last line in the window). */
  minDurationMs?: number;
  /** What `status=slow` means when no minDurationMs is given. */
  slowMs: number;
  limit: number;
  /** Only flows of this API key (`user.name`); nginx lines carry none. */
  owner?: string;
  /** Where the page starts: after the last flow of the one before. */
  after?: FlowCursor;
}

/**
 * The last flow of a page: the next page lists flows that ended before it, or at the same
 * millisecond and not yet listed.
 */
export interface FlowCursor {
  /** Its last line's time, epoch ms. */
  lastAt: number;
  /** The flows of the pages so far that ended at that very millisecond. */
  seen: string[];
}

/** The opaque `cursor` of a page's `next_cursor`: base64url of the cursor's JSON. */
export function encodeCursor(cursor: FlowCursor): string {
  return Buffer.from(JSON.stringify([cursor.lastAt, cursor.seen])).toString('base64url');
}

/** The cursor `text` encodes, or undefined when it is not one this API wrote. */
export function decodeCursor(text: string): FlowCursor | undefined {
  if (text.length > 64_000 || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [lastAt, seen] = value as unknown[];
  if (typeof lastAt !== 'number' || !Number.isSafeInteger(lastAt)) return undefined;
  if (!Array.isArray(seen) || seen.length > FLOWS_MAX_LIMIT) return undefined;
  if (!seen.every((id): id is string => typeof id === 'string')) return undefined;
  return { lastAt, seen };
}
