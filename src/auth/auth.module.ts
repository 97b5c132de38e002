import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyGuard } from './api-key.guard';
import { RateLimiter } from './rate-limiter';

/** API keys and per-key rate limits for every route (off while API_KEYS is unset). */
@Module({
  providers: [RateLimiter, { provide: APP_GUARD, useClass: ApiKeyGuard }],
})
export class AuthModule {}
