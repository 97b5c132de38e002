import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyGuard } from './api-key.guard';
import { Authenticator } from './authenticator';
import { RateLimiter } from './rate-limiter';

/** API keys and rate limits for every route (off while API_KEYS is unset). */
@Module({
  providers: [RateLimiter, Authenticator, { provide: APP_GUARD, useClass: ApiKeyGuard }],
  exports: [Authenticator],
})
export class AuthModule {}
