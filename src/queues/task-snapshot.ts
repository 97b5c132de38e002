import type { Job } from 'bullmq';
import type { TaskEnvelope, TaskError, TaskSnapshot, TaskStatus } from './task';
import type { TaskQueue } from './queue-names';

const STATUS_OF_STATE: Record<string, TaskStatus> = {
  waiting: 'queued',
  prioritized: 'queued',
  delayed: 'queued',
  'waiting-children': 'queued',
  active: 'active',
  completed: 'completed',
  failed: 'failed',
};

/** A BullMQ job as a task, as the API reports it. */
export function toSnapshot(
  job: Job<TaskEnvelope>,
  queue: TaskQueue,
  state: string,
  maxAttempts: number,
): TaskSnapshot {
  const status = STATUS_OF_STATE[state] ?? 'queued';
  const progress =
    typeof job.progress === 'number' ? job.progress : status === 'completed' ? 100 : 0;
  const snapshot: TaskSnapshot = {
    id: job.id ?? '',
    type: job.name,
    queue,
    priority: job.data?.meta?.priority ?? job.opts.priority ?? 0,
    status,
    progress: status === 'completed' ? 100 : progress,
    attempts: job.attemptsStarted,
    max_attempts: job.opts.attempts ?? maxAttempts,
    created_at: new Date(job.timestamp).toISOString(),
  };
  if (job.data?.meta?.correlation_id) snapshot.correlation_id = job.data.meta.correlation_id;
  if (job.data?.meta?.owner) snapshot.owner = job.data.meta.owner;
  if (job.data?.meta?.client) snapshot.client = job.data.meta.client;
  if (job.processedOn) snapshot.started_at = new Date(job.processedOn).toISOString();
  if (job.finishedOn && (status === 'completed' || status === 'failed')) {
    snapshot.finished_at = new Date(job.finishedOn).toISOString();
  }
  if (status === 'completed') snapshot.result = unwrapChildResult(job);
  if (status === 'failed') snapshot.error = errorOf(job);
  if (job.parentKey) snapshot.parent_id = job.parentKey.split(':').pop();
  return snapshot;
}

/** A child stores `{result, index}` so that its parent can keep the given order; show `result`. */
function unwrapChildResult(job: Job<TaskEnvelope>): unknown {
  const value: unknown = job.returnvalue;
  if (
    job.data?.meta?.index !== undefined &&
    typeof value === 'object' &&
    value !== null &&
    'result' in value
  ) {
    return value.result;
  }
  return value;
}

/** The error's class name comes from the first line of the stack BullMQ kept; never the stack itself. */
function errorOf(job: Job): TaskError {
  const firstLine = job.stacktrace?.at(-1)?.split('\n')[0] ?? '';
  const named = /^([A-Za-z_$][\w$]*): /.exec(firstLine);
  if (/stalled more than allowable limit/.test(job.failedReason)) {
    return {
      type: 'WorkerLost',
      message: `the task's worker stopped ${job.stalledCounter} time(s) while running it; it was not retried again`,
    };
  }
  return { type: named ? named[1] : 'Error', message: job.failedReason };
}
