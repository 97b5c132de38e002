import { Inject, Injectable } from '@nestjs/common';
import { Job, UnrecoverableError, type Worker } from 'bullmq';
import type { AppLogger as Pino } from '../logging/logger';
import { AppConfig } from '../config/app-config';
import { type FlowContext, flowContext } from '../context/flow-context';
import { decodeFlow } from '../context/job-meta.codec';
import type { HopSpan } from '../context/otel';
import { PINO } from '../logging/logging.module';
import { Metrics } from '../metrics/metrics';
import type { TaskQueue } from '../config/queue-names';
import { type TaskEnvelope, taskInput } from '../queues/task';
import { PermanentTaskError } from '../tasks/permanent-task.error';
import { TaskDataError } from '../tasks/task-data.error';
import type { TaskContext } from '../tasks/task-handler';
import { isTaskType, TaskRegistry } from '../tasks/task-registry';
import type { TaskType } from '../tasks/types';
import { expiredMessage, TaskHousekeeping } from './task-housekeeping';
import { EVENT_ACTION } from '../logging/event-actions.mjs';
import { consumerSpan, typeLabel } from './run-telemetry';

/**
 * The flow a task run belongs to, restored from the job's metadata: the submitting
 * request's IDs, a new span of the submitter's trace, and the task's own fields.
 */
export function contextOf(job: Job<TaskEnvelope>): FlowContext {
  const parent_id = job.parentKey?.split(':').pop();
  return decodeFlow(job.data.meta, {
    task_id: job.id,
    task: {
      type: job.name,
      queue: job.queueName,
      attempt: job.attemptsStarted,
      ...(parent_id ? { parent_id } : {}),
    },
  });
}

/**
 * Records that a task (held with the lock it was taken with) completed with `result`, and
 * drops its input; returns the slot's next task when it takes one in the same call
 * (TaskTaker.complete).
 * @throws when the completion could not be recorded (the lock was lost, Redis is away)
 */
export type Completion = (
  job: Job<TaskEnvelope>,
  result: unknown,
) => Promise<Job<TaskEnvelope> | undefined>;

/**
 * The run of one task a worker has taken (and holds the lock of): restores the task's flow
 * context, runs its handler, classifies a failure (retried, failed for good, stalled) and
 * records the outcome in BullMQ, writing the task's lifecycle lines.
 * @see docs/queues.md
 */
@Injectable()
export class TaskRun {
  constructor(
    private readonly config: AppConfig,
    private readonly registry: TaskRegistry,
    /** The task's own lines (lifecycle, progress, outcome), stamped with its flow context. */
    @Inject(PINO) private readonly taskLog: Pino,
    private readonly housekeeping: TaskHousekeeping,
    private readonly metrics: Metrics,
  ) {}

  /**
   * Runs a task taken with the lock `token`, inside its flow context. Its completion is
   * recorded by `complete`, which may take the slot's next task in the same call: that task is
   * returned, locked (failures are recorded apart, and return none).
   */
  async run(
    job: Job<TaskEnvelope>,
    token: string,
    complete: Completion,
  ): Promise<Job<TaskEnvelope> | undefined> {
    if (typeof job.data?.meta !== 'object' || job.data.meta === null) {
      // Not queued by Threadline (e.g. added by hand): fail it rather than crash on it.
      await this.fail(
        job,
        token,
        new UnrecoverableError('the job has no Threadline envelope ({input, meta})'),
        0,
      );
      return undefined;
    }
    const context = contextOf(job);
    const span = consumerSpan(job, context);
    if (!span) return flowContext.run(context, () => this.attempt(job, token, complete));
    // The host's OpenTelemetry SDK made the run's span: the run's lines carry its ids.
    context.trace = span.trace;
    return flowContext.run(context, () =>
      span.run(() => this.attempt(job, token, complete, span)).finally(() => span.end()),
    );
  }

  /** One attempt of a task, inside its flow context, writing the lifecycle lines. */
  private async attempt(
    job: Job<TaskEnvelope>,
    token: string,
    complete: Completion,
    span?: HopSpan,
  ): Promise<Job<TaskEnvelope> | undefined> {
    const started = performance.now();
    const attempt = job.attemptsStarted;
    const queueWaitMs =
      attempt === 1 && job.processedOn ? job.processedOn - job.timestamp : undefined;
    // A batch's parent waits for its children by design: its wait is theirs, not the queue's.
    const waitedInQueue = job.data.meta.children === undefined ? queueWaitMs : undefined;
    this.metrics.taskStarted(
      typeLabel(job),
      job.queueName,
      waitedInQueue === undefined ? undefined : waitedInQueue / 1000,
    );
    this.taskLog.info(
      {
        'event.action': EVENT_ACTION.taskStarted,
        ...(queueWaitMs === undefined ? {} : { 'task.queue_wait_ms': queueWaitMs }),
      },
      `task ${job.id} started (attempt ${attempt}${queueWaitMs === undefined ? '' : `, waited ${queueWaitMs} ms`})`,
    );
    try {
      if (job.deferredFailure) {
        // BullMQ marks a task that lost its worker too often (WORKER_MAX_STALLED) and leaves
        // the failing to whoever takes it next: fail it without running it again.
        throw new UnrecoverableError(job.deferredFailure);
      }
      if (!isTaskType(job.name)) {
        throw new UnrecoverableError(`unknown task type "${job.name}"`);
      }
      const type: TaskType = job.name;
      const waitedMs = Date.now() - job.timestamp;
      // A batch's parent waits for its children by design; anything else expires unstarted.
      if (attempt === 1 && job.data.meta.children === undefined && waitedMs > this.maxWaitMs) {
        throw new TaskExpiredError(expiredMessage(waitedMs, this.config.TASK_MAX_WAIT_S));
      }
      const context: TaskContext = {
        taskId: job.id ?? '',
        attempt,
        queue: job.queueName as TaskQueue,
        progress: async (percent) => {
          const value = Math.max(0, Math.min(100, Math.round(percent)));
          await job.updateProgress(value);
          this.taskLog.info(
            { 'event.action': EVENT_ACTION.taskProgress, 'task.progress': value },
            `task ${job.id} at ${value}%`,
          );
        },
        childResults: async <T>() => {
          const values = await job.getChildrenValues<{ result: T; index: number }>();
          return Object.values(values)
            .sort((a, b) => a.index - b.index)
            .map((v) => v.result);
        },
      };
      const handler = this.registry.handler(type);
      const result = handler.children
        ? await handler.combine(context)
        : await handler.run(this.registry.parse(type, taskInput(job.data)), context);
      // Children report their index so that the parent can keep the given order.
      const stored =
        job.data.meta.index === undefined ? result : { result, index: job.data.meta.index };
      let next: Job<TaskEnvelope> | undefined;
      try {
        next = await complete(job, stored);
      } catch (error) {
        // The work is done; if its lock is lost, another worker will run it again.
        this.taskLog.warn(
          {
            'event.action': EVENT_ACTION.taskCompletionLost,
            'error.message': (error as Error).message,
          },
          `task ${job.id} finished but its completion could not be recorded; it may run again`,
        );
        return undefined;
      }
      await this.housekeeping.ended(job, 'completed');
      const runMs = performance.now() - started;
      this.metrics.taskEnded(typeLabel(job), job.queueName, 'completed', runMs / 1000);
      this.taskLog.info(
        {
          'event.action': EVENT_ACTION.taskCompleted,
          'event.duration': Math.round(runMs * 1e6),
          'task.run_ms': Math.round(runMs),
          ...(queueWaitMs === undefined ? {} : { 'task.queue_wait_ms': queueWaitMs }),
        },
        `task ${job.id} completed in ${Math.round(runMs)} ms`,
      );
      return next;
    } catch (error) {
      await this.fail(job, token, error, performance.now() - started, span);
      return undefined;
    }
  }

  /** Records a failed attempt: retried with backoff, or failed for good (see failureOf). */
  private async fail(
    job: Job<TaskEnvelope>,
    token: string,
    error: unknown,
    runMs: number,
    span?: HopSpan,
  ): Promise<void> {
    const failure = failureOf(error);
    span?.fail(failure);
    const attempts = job.opts.attempts ?? 1;
    const willRetry = !isPermanent(failure) && job.attemptsMade + 1 < attempts;
    const retryInMs = this.config.TASK_BACKOFF_MS * 2 ** job.attemptsMade;
    const recorded = await job.moveToFailed(withNamedStack(failure), token, false).then(
      () => true,
      (e: Error) => {
        this.taskLog.warn(`task ${job.id}: could not record its failure: ${e.message}`);
        return false;
      },
    );
    if (recorded && !willRetry) await this.housekeeping.ended(job, 'failed');
    this.metrics.taskEnded(
      typeLabel(job),
      job.queueName,
      willRetry ? 'retried' : 'failed',
      runMs / 1000,
    );
    const fields = {
      'event.action': willRetry ? EVENT_ACTION.taskRetried : EVENT_ACTION.taskFailed,
      'event.duration': Math.round(runMs * 1e6),
      'task.run_ms': Math.round(runMs),
      'error.type': failure.name,
      'error.message': failure.message,
      ...(willRetry ? { 'task.retry_in_ms': retryInMs } : {}),
    };
    if (willRetry) {
      this.taskLog.warn(
        fields,
        `task ${job.id} failed on attempt ${job.attemptsStarted} (${failure.name}); retrying in ${retryInMs} ms`,
      );
    } else {
      this.taskLog.error(
        fields,
        `task ${job.id} failed for good on attempt ${job.attemptsStarted}: ${failure.name}: ${failure.message}`,
      );
    }
  }

  /**
   * A task whose worker stopped, put back in its queue by the stalled check of `worker`
   * (which serves `queue`): says so in the task's flow.
   */
  async stalled(worker: Worker<TaskEnvelope>, queue: TaskQueue, jobId: string): Promise<void> {
    this.metrics.taskStalled(queue);
    const job = await Job.fromId<TaskEnvelope>(worker, jobId).catch(() => undefined);
    const line = (): void =>
      this.taskLog.warn(
        { 'event.action': EVENT_ACTION.taskStalled },
        `task ${jobId} stalled: its worker stopped responding; it goes back to ${queue}`,
      );
    if (!job) return line();
    const context = contextOf(job);
    // By the time this line is written another worker may have started the next attempt.
    const restarted = (await job.getState().catch(() => 'unknown')) === 'active';
    if (context.task && restarted) context.task.attempt -= 1;
    flowContext.run(context, line);
  }

  private get maxWaitMs(): number {
    return this.config.TASK_MAX_WAIT_S * 1000;
  }
}

/** A task that waited longer than TASK_MAX_WAIT_S for its first run: failed without running. */
class TaskExpiredError extends UnrecoverableError {
  override readonly name = 'TaskExpired';
}

/**
 * What a handler threw, as the Error to record. Invalid data and Threadline's permanent
 * failures become BullMQ's UnrecoverableError, which it does not retry.
 */
function failureOf(error: unknown): Error {
  return error instanceof TaskDataError
    ? new UnrecoverableError(`invalid task data: ${error.message}`)
    : error instanceof PermanentTaskError
      ? new UnrecoverableError(error.message)
      : error instanceof Error
        ? error
        : new Error(String(error));
}

/** A failure that no retry can mend: the task fails for good at once. */
function isPermanent(failure: Error): boolean {
  return failure instanceof UnrecoverableError;
}

/**
 * V8 may write an error's stack header before a subclass sets its `name`, so the stack of an
 * `UnrecoverableError` can start with "Error:". BullMQ keeps the stack, and the API reads the
 * error's type from its first line: make that line say the real class.
 */
function withNamedStack(error: Error): Error {
  const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  error.stack = [`${error.name}: ${error.message}`, ...frames].join('\n');
  return error;
}
