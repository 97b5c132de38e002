import { Module } from '@nestjs/common';
import { QuotaRepository } from './quota.repository';

/** Per-client quotas, shared by the API (claims) and the workers (releases). */
@Module({ providers: [QuotaRepository], exports: [QuotaRepository] })
export class QuotasModule {}
