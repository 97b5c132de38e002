import { Matches, ValidateIf } from 'class-validator';
import { IntRange } from './int-range.decorator';
import { IsServiceUrl } from './is-service-url.validator';
import { MAX_SHARDS, shardPrefixes, Shards } from './shards';
import { IsRedisNodeList } from './redis-nodes';
import { ServerSettings } from './server.settings';

/** Redis: where the queues, results and records are kept. One section of `AppConfig`, which callers use. */
export class RedisSettings extends ServerSettings {
  /** Redis holding the queues and results. Default: `redis://127.0.0.1:6379`. */
  @IsServiceUrl(['redis:', 'rediss:'], 'redis://127.0.0.1:6379')
  REDIS_URL = 'redis://127.0.0.1:6379';

  /**
   * A Redis Cluster instead of one Redis: some or all of its nodes, as comma-separated
   * `host:port` pairs or `redis://[:password@]host:port` URLs (the first with a password gives
   * it). REDIS_URL is then not used. Default: unset (one Redis at REDIS_URL).
   */
  @ValidateIf((config: RedisSettings) => config.REDIS_CLUSTER_NODES !== '')
  @IsRedisNodeList()
  REDIS_CLUSTER_NODES = '';

  /**
   * Replicas that must hold a task before it is accepted (Redis `WAIT`), so that a master's
   * failover cannot lose it; a request answers 503 when they do not confirm in time.
   * Default: `1` with REDIS_CLUSTER_NODES, else `0`.
   */
  @ValidateIf((config: RedisSettings) => config.REDIS_WAIT_REPLICAS !== '')
  @Matches(/^\d$/, {
    message: 'must be a number of replicas from 0 to 9, e.g. REDIS_WAIT_REPLICAS=1',
  })
  REDIS_WAIT_REPLICAS = '';

  /**
   * Prefix of every key Threadline keeps in Redis (queues, idempotency records, heartbeats).
   * Processes sharing a prefix share queues. On a cluster it is put in braces (`{threadline}`)
   * unless it has them, so that every key hashes to one slot, as BullMQ requires.
   * Default: `threadline`.
   */
  @Matches(/^[A-Za-z0-9_.{}-]{1,64}$/, {
    message: 'must be 1-64 letters, digits or _ . - { }, e.g. threadline',
  })
  REDIS_PREFIX = 'threadline';

  /**
   * Shards the queues are spread over: each holds the three priority queues, and the records,
   * results and quotas of its tasks, in a hash slot of its own, so that a Redis Cluster's
   * masters share the work (docs/scaling.md). A task's shard is in its id. Changing it moves
   * every key: see REDIS_SHARDS_PREVIOUS. Default: `1` (one slot, the unsharded layout).
   */
  @IntRange(1, MAX_SHARDS, 'shards', 'REDIS_SHARDS=3')
  REDIS_SHARDS = 1;

  /**
   * `1` after moving an unsharded deployment to REDIS_SHARDS > 1: workers go on draining the
   * tasks queued under the unsharded layout, and lookups find them, until it is unset.
   * Default: unset (no earlier layout).
   */
  @ValidateIf((config: RedisSettings) => config.REDIS_SHARDS_PREVIOUS !== '')
  @Matches(/^1$/, {
    message:
      'can only be 1: the unsharded layout, drained after moving to REDIS_SHARDS > 1. To change a sharded count, drain the queues first (docs/scaling.md#changing-the-shard-count)',
  })
  REDIS_SHARDS_PREVIOUS = '';

  /** How long a Redis operation of a request may take before it answers 503, in ms. Default: `800`. */
  @IntRange(50, 10000, 'milliseconds')
  REDIS_TIMEOUT_MS = 800;

  /** Whether Redis is a cluster (REDIS_CLUSTER_NODES is set). */
  get redisCluster(): boolean {
    return this.REDIS_CLUSTER_NODES !== '';
  }

  /** The prefix of every Redis key: REDIS_PREFIX, in braces on a cluster (one hash slot). */
  get keyPrefix(): string {
    if (!this.redisCluster || this.REDIS_PREFIX.includes('{')) return this.REDIS_PREFIX;
    return `{${this.REDIS_PREFIX}}`;
  }

  #shards: Shards | undefined;

  /** The shards' key prefixes (REDIS_SHARDS of them) and how a task finds its shard. */
  get shards(): Shards {
    this.#shards ??= new Shards(
      shardPrefixes(this.keyPrefix, this.REDIS_SHARDS),
      this.REDIS_SHARDS > 1 && this.REDIS_SHARDS_PREVIOUS === '1' ? this.keyPrefix : undefined,
    );
    return this.#shards;
  }

  /** Replicas a task must reach before it is accepted: REDIS_WAIT_REPLICAS, or its default. */
  get waitReplicas(): number {
    if (this.REDIS_WAIT_REPLICAS !== '') return Number(this.REDIS_WAIT_REPLICAS);
    return this.redisCluster ? 1 : 0;
  }
}
