import { type CanActivate, type ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AppConfig } from '../config/app-config';
import { flowContext } from '../context/flow-context';
import { ProblemException } from '../problem/problem.exception';
import { type ApiKey, holderOf, parseApiKeys, presentedKey } from './api-keys';
import { PUBLIC } from './public.decorator';
import { RateLimiter } from './rate-limiter';

/**
 * With API_KEYS set, every route not marked {@link Public} needs a listed key (401 without
 * one), counts against that key's rate limit (429 beyond it), and runs as that key: the
 * flow's `owner`, which scopes tasks, traces and Idempotency-Keys to it. Without API_KEYS,
 * everything passes (local use).
 * @see docs/security.md
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: ApiKey[];

  constructor(
    config: AppConfig,
    private readonly reflector: Reflector,
    private readonly limiter: RateLimiter,
  ) {
    this.keys = parseApiKeys(config.API_KEYS);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.keys.length === 0) return true;
    if (
      this.reflector.getAllAndOverride<boolean>(PUBLIC, [context.getHandler(), context.getClass()])
    )
      return true;
    const request = context.switchToHttp().getRequest<Request>();
    const presented = presentedKey(request.headers.authorization, request.headers['x-api-key']);
    const owner = presented === undefined ? undefined : holderOf(this.keys, presented);
    if (owner === undefined) {
      throw new ProblemException(HttpStatus.UNAUTHORIZED, {
        title: 'Unauthorized',
        detail:
          presented === undefined
            ? 'This API needs an API key: send it as Authorization: Bearer <key> (or X-API-Key: <key>).'
            : 'The API key is not one this server knows (API_KEYS). Check it for typos, or ask for a new one.',
        headers: { 'WWW-Authenticate': 'Bearer realm="threadline"' },
      });
    }
    const decision = await this.limiter.take(owner);
    if (!decision.allowed) {
      throw new ProblemException(HttpStatus.TOO_MANY_REQUESTS, {
        title: 'Too many requests',
        detail: `This API key made more than its RATE_LIMIT_PER_MINUTE requests this minute; retry in ${decision.retryAfterS} s.`,
        headers: { 'Retry-After': String(decision.retryAfterS) },
      });
    }
    flowContext.assign({ owner, client: `key:${owner}` });
    return true;
  }
}
