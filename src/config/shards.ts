/** Hash slots of a Redis Cluster. */
export const CLUSTER_SLOTS = 16384;

/** Most shards a deployment may have: far more than masters any cluster here would run. */
export const MAX_SHARDS = 64;

/**
 * Where Threadline's keys live: one key prefix per shard, each a hash tag of its own, so that
 * on a Redis Cluster each shard's queues, records and quotas share one hash slot (as BullMQ's
 * scripts need) while the shards spread over the masters. One shard is the layout of an
 * unsharded deployment, its prefix unchanged.
 *
 * A task's shard is in its id: the first 32 bits of the UUID, modulo the shard count. A new
 * task's id is placed on the shard its submission is routed to ({@link place}), so that
 * `GET` and `DELETE` find it from the id alone.
 * @see docs/scaling.md
 */
export class Shards {
  /**
   * @param prefixes the key prefix of each shard, in shard order
   * @param legacy the prefix of the unsharded layout this deployment came from, whose tasks are
   *   still drained and found (REDIS_SHARDS_PREVIOUS=1); never given new ones
   */
  constructor(
    readonly prefixes: readonly string[],
    readonly legacy?: string,
  ) {
    if (prefixes.length < 1 || prefixes.length > MAX_SHARDS) {
      throw new Error(`a deployment has 1 to ${MAX_SHARDS} shards, not ${prefixes.length}`);
    }
  }

  get count(): number {
    return this.prefixes.length;
  }

  /** Every prefix that may hold tasks: the shards, then the drained legacy layout if any. */
  get served(): readonly string[] {
    return this.legacy === undefined ? this.prefixes : [...this.prefixes, this.legacy];
  }

  /** The shard task `id` belongs to (a UUID's first 32 bits, modulo the shard count). */
  ofTask(id: string): number {
    if (this.count === 1) return 0;
    return Number.parseInt(id.slice(0, 8), 16) % this.count;
  }

  /** The key prefix of task `id`'s shard. */
  prefixOfTask(id: string): string {
    return this.prefixes[this.ofTask(id)];
  }

  /**
   * Where task `id` may be, in the order to look: its shard's prefix, then, while it is
   * drained, the unsharded layout's (a task queued before the move to shards).
   */
  lookupsOfTask(id: string): readonly string[] {
    const own = this.prefixOfTask(id);
    return this.legacy === undefined ? [own] : [own, this.legacy];
  }

  /** The shard a string (an idempotency key, a client) is kept on: its hash slot's. */
  ofString(value: string): number {
    return this.count === 1 ? 0 : hashSlot(value) % this.count;
  }

  /**
   * Task id `id` (a UUID) moved onto `shard`: its first 32 bits changed by less than the
   * shard count, the rest (version, variant, randomness) kept.
   */
  place(id: string, shard: number): string {
    if (this.count === 1) return id;
    const head = Number.parseInt(id.slice(0, 8), 16);
    let placed = head - (head % this.count) + shard;
    if (placed > 0xffffffff) placed -= this.count;
    return placed.toString(16).padStart(8, '0') + id.slice(8);
  }
}

/**
 * The prefixes of `count` shards of base prefix `base`: `base` itself for one shard (the
 * unsharded layout); else `{base:i}`, or `{base:i.j}` with the first j that does it, so that
 * shard i's hash slot falls in the i-th of `count` equal ranges of the slots. A cluster whose
 * masters hold equal contiguous ranges (as `redis-cli --cluster create` makes them) then
 * gets count / masters shards on each master.
 */
export function shardPrefixes(base: string, count: number): string[] {
  if (count === 1) return [base];
  const name = base.replace(/[{}]/g, '');
  return Array.from({ length: count }, (_, shard) => {
    const low = Math.floor((shard * CLUSTER_SLOTS) / count);
    const high = Math.floor(((shard + 1) * CLUSTER_SLOTS) / count);
    for (let j = 0; ; j++) {
      const tag = j === 0 ? `${name}:${shard}` : `${name}:${shard}.${j}`;
      const slot = hashSlot(tag);
      if (slot >= low && slot < high) return `{${tag}}`;
    }
  });
}

/**
 * The Redis Cluster hash slot of `key`: CRC16 (XMODEM) of its hash tag (the part between
 * the first `{` and the next `}`, when not empty) or of the whole key, modulo 16384.
 * @see https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#key-distribution-model
 */
export function hashSlot(key: string): number {
  const open = key.indexOf('{');
  let hashed = key;
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) hashed = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(hashed)) crc = ((crc << 8) & 0xffff) ^ CRC16[(crc >> 8) ^ byte];
  return crc % CLUSTER_SLOTS;
}

/** CRC16-XMODEM (polynomial 0x1021) of each byte value, for {@link hashSlot}. */
const CRC16 = Uint16Array.from({ length: 256 }, (_, byte) => {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
  return crc & 0xffff;
});
