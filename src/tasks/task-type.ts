import type { Type } from '@nestjs/common';
import type { ClassConstructor } from 'class-transformer';
import type { TaskHandler } from './task-handler';

/**
 * One task type, as TASK_TYPE_LIST (src/tasks/types/index.ts) declares it: from it come the
 * names clients may submit, the providers, and the OpenAPI schemas of `data`.
 * @see docs/tasks.md#adding-a-type
 */
export interface TaskTypeDefinition<N extends string = string, D extends object = object> {
  /** What clients give as `type`, and the name of its jobs: a-z, 0-9 and `_`. */
  readonly name: N;
  /** The injectable class that runs it. */
  readonly handler: Type<TaskHandler<D>>;
  /** The class-validator class of its `data`, with `@ApiProperty` for the OpenAPI document. */
  readonly data: ClassConstructor<D>;
}

/** Declares a task type; the compiler checks that the handler takes the `data` class given. */
export function taskType<const N extends string, D extends object>(
  definition: TaskTypeDefinition<N, D>,
): TaskTypeDefinition<N, D> {
  return definition;
}
