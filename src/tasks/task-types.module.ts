import { Module } from '@nestjs/common';
import { TaskRegistry } from './task-registry';
import { TASK_TYPE_LIST } from './types';

/** The task types and their handlers; shared by the API (validation) and the workers (running). */
@Module({
  providers: [TaskRegistry, ...TASK_TYPE_LIST.map((type) => type.handler)],
  exports: [TaskRegistry],
})
export class TaskTypesModule {}
