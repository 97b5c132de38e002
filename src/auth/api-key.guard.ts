import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { Authenticator } from './authenticator';
import { PUBLIC } from './public.decorator';

/**
 * The safety net behind {@link Authenticator.middleware}: every route not marked
 * {@link Public} needs a key, wherever it is mounted. The middleware has already let through
 * (or refused, before reading the body) every request under `/api/v1`; a route elsewhere is
 * checked here, with the same logic, after its body was parsed.
 * @see docs/security.md
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly authenticator: Authenticator,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.authenticator.on) return true;
    if (
      this.reflector.getAllAndOverride<boolean>(PUBLIC, [context.getHandler(), context.getClass()])
    )
      return true;
    const http = context.switchToHttp();
    await this.authenticator.authenticate(http.getRequest<Request>(), http.getResponse<Response>());
    return true;
  }
}
