// Every task type Threadline runs, declared once. The names clients may submit, the handler
// providers, and the OpenAPI `oneOf` and schemas of `data` all come from this list.
// Adding a type: docs/tasks.md#adding-a-type.
import { taskType } from '../task-type';
import { BatchVarData } from './batch-var/batch-var.data';
import { BatchVarHandler } from './batch-var/batch-var.handler';
import { CalculateVarData } from './calculate-var/calculate-var.data';
import { CalculateVarHandler } from './calculate-var/calculate-var.handler';
import { EchoData } from './echo/echo.data';
import { EchoHandler } from './echo/echo.handler';

export const TASK_TYPE_LIST = [
  taskType({ name: 'calculate_var', handler: CalculateVarHandler, data: CalculateVarData }),
  taskType({ name: 'batch_var', handler: BatchVarHandler, data: BatchVarData }),
  taskType({ name: 'echo', handler: EchoHandler, data: EchoData }),
] as const;

/** The name of a task type in TASK_TYPE_LIST. */
export type TaskType = (typeof TASK_TYPE_LIST)[number]['name'];

/** The names of the task types, in the list's order. */
export const TASK_TYPES: readonly TaskType[] = TASK_TYPE_LIST.map((type) => type.name);
