import { flowContext } from '../context/flow-context';
import type { TaskSnapshot } from './task';

/**
 * Whether the request may see `task`: with API keys on, only the key that submitted it may;
 * to any other the task does not exist (404, so that ids cannot be probed).
 */
export function visible(task: TaskSnapshot): boolean {
  const owner = flowContext.get()?.owner;
  return owner === undefined || task.owner === owner;
}

/**
 * A request about a task joins that task's flow: its lines (the access line too) and its
 * response headers carry the task's `correlation_id` and `task_id` beside the request's own
 * `request_id`.
 */
export function joinFlow(task: TaskSnapshot): void {
  const context = flowContext.get();
  if (!context) return;
  flowContext.assign({
    task_id: task.id,
    correlation_id: task.correlation_id ?? context.correlation_id,
  });
}
