import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TaskRegistry } from './task-registry';
import { BatchVarHandler } from './types/batch-var/batch-var.handler';
import { CalculateVarHandler } from './types/calculate-var/calculate-var.handler';
import { EchoHandler } from './types/echo/echo.handler';

/** The task types and their handlers; shared by the API (validation) and the workers (running). */
@Module({
  imports: [DiscoveryModule],
  providers: [TaskRegistry, CalculateVarHandler, BatchVarHandler, EchoHandler],
  exports: [TaskRegistry],
})
export class TaskTypesModule {}
