import type { EventAction } from '../event-actions.mjs';
/**
 * The shipper's counters, in memory shared between the logging thread that ships and the main
 * thread that reports them (`/ready`, the worker heartbeat). One writer, any number of readers.
 */

/** Writes one of the shipper's own log lines (to stdout, and to the spool when it can). */
export type ShipperNotice = (
  level: 'info' | 'warn' | 'error',
  action: EventAction,
  message: string,
) => void;

/** What the shipper is doing now. */
export const SHIPPING_STATES = [
  'starting',
  'delivering',
  'failing',
  'waiting-for-template',
] as const;
export type ShippingState = (typeof SHIPPING_STATES)[number];

const SLOTS = {
  state: 0,
  /** Lines written to the spool. */
  accepted: 1,
  /** Lines Elasticsearch stored (201). */
  shipped: 2,
  /** Lines Elasticsearch already had (409 on a resend): delivered, not stored twice. */
  duplicates: 3,
  /** Lines delivered after waiting out an outage or a restart. */
  replayed: 4,
  /** Lines Elasticsearch refused for good, kept in the dead-letter file. */
  dead_lettered: 5,
  /** Lines not spooled: the spool was at its bound, or the disk refused the write. */
  dropped: 6,
  /** Lines in the spool not yet delivered, and their bytes. */
  spooled: 7,
  spool_bytes: 8,
  /** Failed delivery attempts (whole requests, or retried items). */
  failed_attempts: 9,
  /** When a batch was last delivered, in ms since the epoch (0: never). */
  last_delivery_ms: 10,
  /** Refused lines not kept: the dead-letter file was at its bound, or could not be written. */
  dead_letter_dropped: 11,
  /** Writes to the spool the disk refused (full, say); their lines are in `dropped`. */
  spool_write_errors: 12,
} as const;

type Counter = Exclude<keyof typeof SLOTS, 'state' | 'last_delivery_ms'>;

export interface ShippingSnapshot {
  state: ShippingState;
  accepted: number;
  shipped: number;
  duplicates: number;
  replayed: number;
  dead_lettered: number;
  dead_letter_dropped: number;
  dropped: number;
  spool_write_errors: number;
  spooled: number;
  spool_bytes: number;
  failed_attempts: number;
  last_delivery_at: string | null;
}

export class ShippingStats {
  private readonly slots: BigInt64Array;

  /** @param buffer shared with the other thread; a new one when omitted. */
  constructor(readonly buffer = new SharedArrayBuffer(16 * BigInt64Array.BYTES_PER_ELEMENT)) {
    this.slots = new BigInt64Array(buffer);
  }

  add(counter: Counter, n: number): void {
    if (n !== 0) Atomics.add(this.slots, SLOTS[counter], BigInt(n));
  }

  set(counter: Counter | 'last_delivery_ms', n: number): void {
    Atomics.store(this.slots, SLOTS[counter], BigInt(n));
  }

  get(counter: Counter): number {
    return Number(Atomics.load(this.slots, SLOTS[counter]));
  }

  setState(state: ShippingState): void {
    Atomics.store(this.slots, SLOTS.state, BigInt(SHIPPING_STATES.indexOf(state)));
  }

  get state(): ShippingState {
    return SHIPPING_STATES[Number(Atomics.load(this.slots, SLOTS.state))] ?? 'starting';
  }

  snapshot(): ShippingSnapshot {
    const last = Number(Atomics.load(this.slots, SLOTS.last_delivery_ms));
    return {
      state: this.state,
      accepted: this.get('accepted'),
      shipped: this.get('shipped'),
      duplicates: this.get('duplicates'),
      replayed: this.get('replayed'),
      dead_lettered: this.get('dead_lettered'),
      dead_letter_dropped: this.get('dead_letter_dropped'),
      dropped: this.get('dropped'),
      spool_write_errors: this.get('spool_write_errors'),
      spooled: this.get('spooled'),
      spool_bytes: this.get('spool_bytes'),
      failed_attempts: this.get('failed_attempts'),
      last_delivery_at: last === 0 ? null : new Date(last).toISOString(),
    };
  }
}
