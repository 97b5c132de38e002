import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { REDIS } from './redis.constants';
import { RedisUnavailableError } from './redis-unavailable.error';
import { type RedisClient, waitForReplicas } from './redis-client';
import { isNoScript, type LuaScript } from './lua-script';

/** A script's keys and arguments, as EVALSHA takes them. */
export interface ScriptCall {
  keys: readonly string[];
  args: readonly (string | number | Buffer)[];
}

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
    const timeoutMs = this.waitTimeoutMs;
    const confirmed = await this.run((client) => waitForReplicas(client, key, wanted, timeoutMs));
    this.checkReplicas(confirmed);
  }

  /** Runs `script` (EVALSHA, its text sent only when Redis lacks it). */
  async eval(script: LuaScript, call: ScriptCall): Promise<unknown> {
    return this.run((client) => evalOn(client, script, call));
  }

  /**
   * Runs `script` and, with REDIS_WAIT_REPLICAS, waits for its writes to reach that many
   * replicas, in one round trip: WAIT goes in the same pipeline, on the connection (and, on a
   * cluster, to the master) that ran the script. The script's reply comes back either way,
   * with `behind` set when fewer replicas confirmed in time: whether that fails the request
   * depends on what the script did.
   */
  async evalReplicated(
    script: LuaScript,
    call: ScriptCall,
  ): Promise<{ reply: unknown; behind?: RedisUnavailableError }> {
    const wanted = this.config.waitReplicas;
    if (wanted === 0) return { reply: await this.eval(script, call) };
    const timeoutMs = this.waitTimeoutMs;
    const { keys, args } = call;
    const [reply, confirmed] = await this.run(async (client) => {
      let replies = await client
        .pipeline()
        .evalsha(script.sha, keys.length, ...keys, ...args)
        .wait(wanted, timeoutMs)
        .exec();
      if (isNoScript(replies?.[0]?.[0])) {
        replies = await client
          .pipeline()
          .eval(script.source, keys.length, ...keys, ...args)
          .wait(wanted, timeoutMs)
          .exec();
      }
      const [[scriptError, scriptReply], [waitError, acknowledged]] = replies ?? [
        [new Error('no answer to EVALSHA'), null],
        [null, 0],
      ];
      if (isRedirection(scriptError)) {
        // The slot has moved (a failover): the script did not run. ioredis follows a lone
        // command to the slot's new master (not a pipeline whose WAIT failed beside it), so
        // the script goes alone, and WAIT after it, on the connection the script used.
        const reply = await evalOn(client, script, call);
        return [reply, await waitForReplicas(client, keys[0], wanted, timeoutMs)] as const;
      }
      if (scriptError) throw scriptError;
      if (waitError) throw waitError;
      return [scriptReply, Number(acknowledged)] as const;
    });
    return confirmed < wanted ? { reply, behind: this.behind(confirmed) } : { reply };
  }

  private get waitTimeoutMs(): number {
    return Math.floor(this.config.REDIS_TIMEOUT_MS / 2);
  }

  private checkReplicas(confirmed: number): void {
    if (confirmed < this.config.waitReplicas) throw this.behind(confirmed);
  }

  private behind(confirmed: number): RedisUnavailableError {
    return new RedisUnavailableError(
      `${confirmed} of ${this.config.waitReplicas} Redis replica(s) confirmed the write within ${this.waitTimeoutMs} ms (REDIS_WAIT_REPLICAS)`,
    );
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
      // ioredis follows a lone command's redirection, but a pipeline's only when all of it was
      // redirected: one that reaches us means a failover is moving the slot, and nothing ran.
      if (isRedirection(error)) {
        throw new RedisUnavailableError(
          `the Redis Cluster is failing over (${(error as Error).message}); nothing was written`,
        );
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Runs `script` on `client` by EVALSHA, sending its text only when Redis lacks it. */
async function evalOn(client: RedisClient, script: LuaScript, call: ScriptCall): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, call.keys.length, ...call.keys, ...call.args);
  } catch (error) {
    if (!isNoScript(error)) throw error;
    return client.eval(script.source, call.keys.length, ...call.keys, ...call.args);
  }
}

/** A cluster node's answer that the key's slot is served elsewhere: nothing was run. */
export function isRedirection(error: unknown): boolean {
  return error instanceof Error && /^(MOVED|ASK) /.test(error.message);
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
    /^(OOM|READONLY|LOADING|MISCONF|BUSY|CLUSTERDOWN|TRYAGAIN|MASTERDOWN)\b/.test(error.message) ||
    // WAIT reaching a node that a failover has just made a replica.
    error.message.startsWith('ERR WAIT cannot be used with replica instances')
  );
}
