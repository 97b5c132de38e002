import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { REDIS } from './redis.constants';
import { RedisUnavailableError } from './redis-unavailable.error';
import { type RedisClient, waitForReplicas } from './redis-client';

/**
 * Threadline's one way to plain Redis commands (queues go through BullMQ instead). Every
 * call fails fast when Redis is away, so a request never hangs on it.
 */
@Injectable()
export class RedisRepository {
  constructor(
    @Inject(REDIS) private readonly client: RedisClient,
    private readonly config: AppConfig,
  ) {}

  /** Round trip to Redis; rejects when it is unreachable. */
  async ping(): Promise<void> {
    await this.run(() => this.client.ping());
  }

  /**
   * Waits until REDIS_WAIT_REPLICAS replicas hold every write made so far (those of the
   * request, through this client): only then may it be acknowledged as durable.
   * @throws RedisUnavailableError when fewer confirm in time (a replica down or far behind)
   */
  async replicated(key: string): Promise<void> {
    const wanted = this.config.waitReplicas;
    if (wanted === 0) return;
    const timeoutMs = Math.floor(this.config.REDIS_TIMEOUT_MS / 2);
    const confirmed = await this.run((client) => waitForReplicas(client, key, wanted, timeoutMs));
    if (confirmed < wanted) {
      throw new RedisUnavailableError(
        `${confirmed} of ${wanted} Redis replica(s) confirmed the write within ${timeoutMs} ms (REDIS_WAIT_REPLICAS)`,
      );
    }
  }

  /** True when the connection is up right now (no round trip). */
  get connected(): boolean {
    return this.client.status === 'ready';
  }

  private readyWait: Promise<boolean> | undefined;

  /**
   * Starts connecting if nobody has yet, and waits up to CONNECT_WAIT_MS for the connection;
   * requests arriving meanwhile share the one wait (and its one listener).
   */
  private becomesReady(): Promise<boolean> {
    if (this.client.status === 'wait') this.client.connect().catch(() => undefined);
    this.readyWait ??= new Promise<boolean>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.client.off('ready', done);
        this.readyWait = undefined;
        resolve(this.client.status === 'ready');
      };
      const timer = setTimeout(done, CONNECT_WAIT_MS);
      this.client.once('ready', done);
    });
    return this.readyWait;
  }

  /**
   * Runs `operation` unless Redis is disconnected, bounded by REDIS_TIMEOUT_MS.
   * @throws RedisUnavailableError when Redis is down or too slow
   */
  async run<T>(operation: (client: RedisClient) => Promise<T>): Promise<T> {
    if (this.client.status !== 'ready' && !(await this.becomesReady())) {
      throw new RedisUnavailableError(`Redis is not connected (connection ${this.client.status})`);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new RedisUnavailableError(
              `Redis did not answer within ${this.config.REDIS_TIMEOUT_MS} ms`,
            ),
          ),
        this.config.REDIS_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([operation(this.client), timeout]);
    } catch (error) {
      if (error instanceof RedisUnavailableError) throw error;
      if (isConnectionError(error)) throw new RedisUnavailableError((error as Error).message);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * How long a request waits for a connection that is being made (at start-up, or while
 * ioredis reconnects) before it is told Redis is unavailable.
 */
const CONNECT_WAIT_MS = 250;

/** ioredis errors that mean "no usable connection", as opposed to a command's own error. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    error.name === 'ClusterAllFailedError' ||
    /Connection is closed|Stream isn't writeable|Command aborted due to connection close|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT/.test(
      error.message,
    ) ||
    // A cluster between a master's death and its replica's promotion.
    /Cluster isn't ready|Cluster is disconnect|None of startup nodes|Failed to refresh slots cache|Too many Cluster redirections|Node is disconnected/.test(
      error.message,
    ) ||
    // Redis answering but refusing writes: full (noeviction), a replica, loading, failing over.
    /^(OOM|READONLY|LOADING|MISCONF|BUSY|CLUSTERDOWN|TRYAGAIN|MASTERDOWN)\b/.test(error.message)
  );
}
