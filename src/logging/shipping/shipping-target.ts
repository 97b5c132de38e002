/** One log line on its way: an id fixed when it was spooled, and the line itself. */
export interface LogEntry {
  /** Unique per line, so that a resend is known for one (a target stores an id once). */
  id: string;
  /** The line as written: one JSON object, without its newline. */
  document: Buffer;
}

/** A target's answer for one entry, as an HTTP status (201 stored, 409 had it, 429 busy, …). */
export interface EntryResult {
  status: number;
  error?: { type: string; reason: string };
}

/** A whole request to a target failed: nothing of it can be assumed stored. */
export class TargetRequestError extends Error {
  constructor(
    message: string,
    /** HTTP status, when the target answered at all (413: the request was too large). */
    readonly status?: number,
  ) {
    super(message);
    this.name = this.constructor.name;
  }
}

/**
 * Where the shipper delivers log lines. The shipper owns the spool, the order, the retries and
 * the dead letters; a target only frames entries the way its store takes them, sends them, and
 * says what became of each. A second target is one more class.
 * @see docs/log-shipping.md#shipping-targets
 */
export interface ShippingTarget {
  /** What the target is, for messages: `Elasticsearch`. */
  readonly name: string;
  /** Where lines go, for messages: never credentials. */
  readonly description: string;
  /**
   * Undefined when the target can take lines now; else what it lacks and how to fix it (lines
   * wait meanwhile). Rejects with {@link TargetRequestError} when it cannot be asked.
   */
  missing(): Promise<string | undefined>;
  /**
   * Stores entries that it does not have yet (by id), and answers for each, in order. Rejects
   * with {@link TargetRequestError} when the request as a whole failed.
   */
  send(entries: readonly LogEntry[]): Promise<EntryResult[]>;
  close(): Promise<void>;
}
