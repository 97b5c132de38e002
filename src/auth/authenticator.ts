import { HttpStatus, Injectable } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppConfig } from '../config/app-config';
import { flowContext } from '../context/flow-context';
import { ProblemException } from '../problem/problem.exception';
import { type ApiKey, keyOf, parseApiKeys, presentedKey } from './api-keys';
import {
  RateLimiter,
  rateLimitField,
  rateLimitPolicyField,
  type RateBucket,
  type RatePolicy,
  type RateState,
} from './rate-limiter';

/** Seconds a client should wait before retrying while the limits cannot be checked. */
const UNAVAILABLE_RETRY_AFTER_S = 1;

/**
 * API keys and rate limits, checked before a request's body is read. With API_KEYS set, a
 * request needs a listed key (401 without one), counts against that key's
 * RATE_LIMIT_PER_MINUTE, and runs as that key: the flow's `owner` (which scopes tasks, traces
 * and Idempotency-Keys), `client` and `grants`. Requests without a valid key count against
 * their address's AUTH_FAILURES_PER_MINUTE; an address over it gets 429 for every request, a
 * valid key included, so that a guess cannot be told right by its answer. When Redis cannot
 * be asked, requests are refused (503): see docs/security.md. Without API_KEYS everything
 * passes (local use).
 */
@Injectable()
export class Authenticator {
  /** Parsed once, at boot. */
  private readonly keys: readonly ApiKey[];
  private readonly requests: RatePolicy;
  private readonly failures: RatePolicy;
  private readonly done = new WeakSet<Request>();

  constructor(
    config: AppConfig,
    private readonly limiter: RateLimiter,
  ) {
    this.keys = parseApiKeys(config.API_KEYS);
    this.requests = { name: 'requests', limit: config.RATE_LIMIT_PER_MINUTE, windowS: 60 };
    this.failures = { name: 'auth-failures', limit: config.AUTH_FAILURES_PER_MINUTE, windowS: 60 };
  }

  /** Whether API keys are on (API_KEYS is set). */
  get on(): boolean {
    return this.keys.length > 0;
  }

  /**
   * Express middleware for the routes that need a key, mounted before the body parser: a
   * request refused here is answered without its body being read, and its connection closed.
   */
  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction): void => {
      this.authenticate(req, res).then(
        () => next(),
        (error: unknown) => {
          if (hasBody(req)) res.setHeader('Connection', 'close');
          next(error);
        },
      );
    };
  }

  /**
   * Lets the request through as its key, or throws the problem to answer: 401, 429 or 503.
   * A request already let through (by the middleware) passes at once.
   */
  async authenticate(req: Request, res: Response): Promise<void> {
    if (!this.on || this.done.has(req)) return;
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const presented = presentedKey(req.headers.authorization, req.headers['x-api-key']);
    const key = presented === undefined ? undefined : keyOf(this.keys, presented);
    const buckets: RateBucket[] = key
      ? [
          { policy: this.failures, id: address, take: false },
          { policy: this.requests, id: key.name, take: true },
        ]
      : [{ policy: this.failures, id: address, take: true }];
    let decision;
    try {
      decision = await this.limiter.check(buckets);
    } catch (error) {
      throw unavailable(error);
    }
    if (decision.refusedBy) throw this.tooMany(decision.refusedBy);
    const shown = decision.states.filter(
      (state) => state.policy === (key ? this.requests : this.failures),
    );
    const fields = rateLimitFields(shown);
    if (!key) {
      throw new ProblemException(HttpStatus.UNAUTHORIZED, {
        title: 'Unauthorized',
        detail:
          presented === undefined
            ? 'This API needs an API key: send it as Authorization: Bearer <key> (or X-API-Key: <key>).'
            : 'The API key is not one this server knows (API_KEYS). Check it for typos, or ask for a new one.',
        headers: { 'WWW-Authenticate': 'Bearer realm="threadline"', ...fields },
      });
    }
    for (const [name, value] of Object.entries(fields)) res.setHeader(name, value);
    this.done.add(req);
    flowContext.assign({ owner: key.name, client: `key:${key.name}`, grants: key.grants });
  }

  private tooMany(state: RateState): ProblemException {
    const detail =
      state.policy === this.failures
        ? `This address sent more than AUTH_FAILURES_PER_MINUTE (${state.policy.limit}) requests without a valid API key in ${state.policy.windowS} s, so every request from it is refused for now; retry in ${state.resetS} s with a valid key.`
        : `This API key made more than its RATE_LIMIT_PER_MINUTE (${state.policy.limit}) requests in ${state.policy.windowS} s; retry in ${state.resetS} s.`;
    return new ProblemException(HttpStatus.TOO_MANY_REQUESTS, {
      title: 'Too many requests',
      detail,
      headers: { 'Retry-After': String(state.resetS), ...rateLimitFields([state]) },
    });
  }
}

function rateLimitFields(states: readonly RateState[]): Record<string, string> {
  return { 'RateLimit-Policy': rateLimitPolicyField(states), RateLimit: rateLimitField(states) };
}

/** The limits cannot be checked: refuse (fail closed), as docs/security.md explains. */
function unavailable(error: unknown): ProblemException {
  const reason = error instanceof Error ? error.message : String(error);
  return new ProblemException(HttpStatus.SERVICE_UNAVAILABLE, {
    title: 'Service Unavailable',
    detail: `The rate limits cannot be checked: Redis did not answer (${reason}). Requests are refused until it does; retry in ${UNAVAILABLE_RETRY_AFTER_S} s.`,
    headers: { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_S) },
  });
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}
