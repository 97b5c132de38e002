import {
  type EntryResult,
  type LogEntry,
  type ShippingTarget,
  TargetRequestError,
} from './shipping-target';

/** Item statuses worth sending again: the target is busy or briefly unavailable. */
const RETRYABLE = new Set([408, 429, 502, 503, 504]);
/** An entry answered 500 this many times is taken as refused for good. */
const MAX_SERVER_ERRORS = 5;

/** What a delivery needs from the shipper that runs it. */
export interface BatchDeliveryHooks {
  /** An attempt failed for a passing reason (counted and reported by the shipper). */
  failed(reason: string): void;
  /** Waits out the back-off; throws when the shipper closes. */
  pause(): Promise<void>;
  /** Keeps an entry the target refused for good. */
  deadLetter(entry: LogEntry, result: EntryResult): void;
}

export interface Delivered {
  stored: number;
  duplicates: number;
}

interface Pending {
  entry: LogEntry;
  serverErrors: number;
}

/**
 * Sends one batch of entries until every entry is settled: stored (201), already stored (409),
 * or refused for good (dead-lettered). Only the entries that failed for a passing reason are
 * sent again; a batch too large for the target (413) goes in halves.
 * @see docs/log-shipping.md
 */
export class BatchDelivery {
  constructor(
    private readonly target: ShippingTarget,
    private readonly hooks: BatchDeliveryHooks,
  ) {}

  /**
   * Delivers one batch: returns once every entry is stored, was already stored, or is in the
   * dead-letter file. Retries, with back-off, whatever failed for a passing reason.
   */
  async deliver(entries: readonly LogEntry[]): Promise<Delivered> {
    const done = { stored: 0, duplicates: 0 };
    if (entries.length === 0) return done;
    let pending: Pending[] = entries.map((entry) => ({ entry, serverErrors: 0 }));
    for (;;) {
      let results: EntryResult[];
      try {
        results = await this.target.send(pending.map((p) => p.entry));
      } catch (error) {
        const failure =
          error instanceof TargetRequestError ? error : new TargetRequestError(String(error));
        if (failure.status === 413) {
          const rest = await this.deliverTooLarge(
            pending.map((p) => p.entry),
            failure,
          );
          return {
            stored: done.stored + rest.stored,
            duplicates: done.duplicates + rest.duplicates,
          };
        }
        this.hooks.failed(failure.message);
        await this.hooks.pause();
        continue;
      }
      if (results.length !== pending.length) {
        // Not an answer about every line: nothing can be taken as stored but the 201s and
        // 409s, which a resend turns into 409s anyway.
        this.hooks.failed(
          `${this.target.name} answered for ${results.length} of ${pending.length} lines`,
        );
        await this.hooks.pause();
        continue;
      }
      const retry: Pending[] = [];
      let retryReason = '';
      results.forEach((result, i) => {
        if (result.status === 200 || result.status === 201) done.stored += 1;
        else if (result.status === 409) done.duplicates += 1;
        else {
          const item = pending[i];
          if (!item) return;
          const passing =
            RETRYABLE.has(result.status) ||
            (result.status >= 500 && ++item.serverErrors < MAX_SERVER_ERRORS);
          if (!passing) return this.hooks.deadLetter(item.entry, result);
          retry.push(item);
          retryReason ||= `${result.status} ${result.error?.type ?? ''}`.trim();
        }
      });
      if (retry.length === 0) return done;
      this.hooks.failed(`${this.target.name} answered ${retryReason} for ${retry.length} lines`);
      pending = retry;
      await this.hooks.pause();
    }
  }

  /** A 413: the target takes less than the batch in one request; send it in halves. */
  private async deliverTooLarge(
    entries: LogEntry[],
    failure: TargetRequestError,
  ): Promise<Delivered> {
    if (entries.length === 1 && entries[0]) {
      this.hooks.deadLetter(entries[0], {
        status: 413,
        error: { type: 'request_too_large', reason: failure.message },
      });
      return { stored: 0, duplicates: 0 };
    }
    const half = Math.ceil(entries.length / 2);
    const first = await this.deliver(entries.slice(0, half));
    const second = await this.deliver(entries.slice(half));
    return {
      stored: first.stored + second.stored,
      duplicates: first.duplicates + second.duplicates,
    };
  }
}
