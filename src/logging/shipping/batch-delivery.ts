import { BulkRequestError, type BulkItemResult, type BulkTarget } from './bulk-target';
import { splitEntries, wholeEntries } from './spool';

/** Item statuses worth sending again: Elasticsearch is busy or briefly unavailable. */
const RETRYABLE = new Set([408, 429, 502, 503, 504]);
/** A document answered 500 this many times is taken as refused for good. */
const MAX_SERVER_ERRORS = 5;

/** What a delivery needs from the shipper that runs it. */
export interface BatchDeliveryHooks {
  /** An attempt failed for a passing reason (counted and reported by the shipper). */
  failed(reason: string): void;
  /** Waits out the back-off; throws when the shipper closes. */
  pause(): Promise<void>;
  /** Keeps an entry Elasticsearch refused for good. */
  deadLetter(entry: Buffer, result: BulkItemResult): void;
}

export interface Delivered {
  stored: number;
  duplicates: number;
}

/**
 * Sends one `_bulk` batch until every entry is settled: stored (201), already stored (409), or
 * refused for good (dead-lettered). Only the entries that failed for a passing reason are sent
 * again; a batch too large for Elasticsearch (413) goes in halves.
 * @see docs/log-shipping.md
 */
export class BatchDelivery {
  constructor(
    private readonly target: BulkTarget,
    private readonly hooks: BatchDeliveryHooks,
  ) {}

  /**
   * Delivers one batch: returns once every entry is stored, was already stored, or is in the
   * dead-letter file. Retries, with back-off, whatever failed for a passing reason.
   */
  async deliver(body: Buffer): Promise<Delivered> {
    const done = { stored: 0, duplicates: 0 };
    let pendingBody = body;
    // Split into entries only when some need handling of their own (rare).
    let pending: { entry: Buffer; serverErrors: number }[] | undefined;
    const entries = () =>
      (pending ??= splitEntries(body).map((entry) => ({ entry, serverErrors: 0 })));
    for (;;) {
      let results: BulkItemResult[];
      try {
        results = await this.target.bulk(pendingBody);
      } catch (error) {
        const failure =
          error instanceof BulkRequestError ? error : new BulkRequestError(String(error));
        if (failure.status === 413) {
          const rest = await this.deliverTooLarge(
            entries().map((p) => p.entry),
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
      const expected = pending?.length ?? wholeEntries(pendingBody).lines;
      if (results.length !== expected) {
        // Not an answer about every line: nothing can be taken as stored but the 201s and
        // 409s, which a resend turns into 409s anyway.
        this.hooks.failed(`Elasticsearch answered for ${results.length} of ${expected} lines`);
        await this.hooks.pause();
        continue;
      }
      const retry: { entry: Buffer; serverErrors: number }[] = [];
      let retryReason = '';
      results.forEach((result, i) => {
        if (result.status === 200 || result.status === 201) done.stored += 1;
        else if (result.status === 409) done.duplicates += 1;
        else {
          const item = entries()[i];
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
      this.hooks.failed(`Elasticsearch answered ${retryReason} for ${retry.length} lines`);
      pending = retry;
      pendingBody = Buffer.concat(retry.map((r) => r.entry));
      await this.hooks.pause();
    }
  }

  /** A 413: Elasticsearch's http.max_content_length is below the batch; send it in halves. */
  private async deliverTooLarge(entries: Buffer[], failure: BulkRequestError): Promise<Delivered> {
    if (entries.length === 1 && entries[0]) {
      this.hooks.deadLetter(entries[0], {
        status: 413,
        error: { type: 'request_too_large', reason: failure.message },
      });
      return { stored: 0, duplicates: 0 };
    }
    const half = Math.ceil(entries.length / 2);
    const first = await this.deliver(Buffer.concat(entries.slice(0, half)));
    const second = await this.deliver(Buffer.concat(entries.slice(half)));
    return {
      stored: first.stored + second.stored,
      duplicates: first.duplicates + second.duplicates,
    };
  }
}
