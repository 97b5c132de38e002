import { MAX_PRIORITY } from './task';

/**
 * Places in the fair rotation within one priority: a client's n-th unfinished task is queued
 * behind every other client's (n−1)-th of the same priority, up to this many.
 */
export const ROTATION_PLACES = 20_000;

/** BullMQ's largest job priority. @see https://docs.bullmq.io/guide/jobs/prioritized */
const BULLMQ_MAX_PRIORITY = 2 ** 21;

/**
 * The BullMQ priority of a task: its client-given priority first (1 before 2, always), then its
 * place in the fair rotation between clients (`rank`: how many unfinished tasks its client
 * already had). A client that queues a thousand tasks thus delays another client's next task
 * by at most one of its own per free worker slot, instead of by all thousand.
 * @see docs/queues.md#fair-rotation-between-clients
 */
export function fairPriority(priority: number, rank: number): number {
  const place = Math.max(0, Math.min(Math.floor(rank), ROTATION_PLACES - 1));
  return (priority - 1) * ROTATION_PLACES + place + 1;
}

// Checked once at load: the largest value must stay within what BullMQ accepts.
if (fairPriority(MAX_PRIORITY, ROTATION_PLACES) > BULLMQ_MAX_PRIORITY) {
  throw new Error('fairPriority exceeds BullMQ priority range; lower ROTATION_PLACES');
}
