/**
 * The task queues, highest priority first. A worker always takes from the first non-empty
 * queue it serves, as the old stack's `BRPOP high medium low` did.
 */
export const TASK_QUEUES = ['high', 'medium', 'low'] as const;
export type TaskQueue = (typeof TASK_QUEUES)[number];

export const DEFAULT_QUEUE: TaskQueue = 'medium';

export function isTaskQueue(value: unknown): value is TaskQueue {
  return typeof value === 'string' && (TASK_QUEUES as readonly string[]).includes(value);
}
