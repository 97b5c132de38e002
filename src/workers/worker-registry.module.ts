import { Module } from '@nestjs/common';
import { WorkerRegistryRepository } from './worker-registry.repository';

@Module({
  providers: [WorkerRegistryRepository],
  exports: [WorkerRegistryRepository],
})
export class WorkerRegistryModule {}
