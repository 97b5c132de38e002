/**
 * The queue's record of a task, as the tasks service names it. It lives in `queues/task.ts`:
 * the queue is the layer below the tasks feature, and imports point down only.
 */
export type { NewTask, TaskSnapshot } from '../queues/task';
