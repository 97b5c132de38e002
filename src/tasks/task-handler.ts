import type { TaskQueue } from '../queues/queue-names';
import type { TaskCost } from './task-cost';

/** What a handler can do while it runs a task. */
export interface TaskContext {
  readonly taskId: string;
  /** 1 on the first run, 2 on the first retry, and so on. */
  readonly attempt: number;
  readonly queue: TaskQueue;
  /** Reports progress, 0 to 100. */
  progress(percent: number): Promise<void>;
  /** Results of this task's children, in the order they were given. */
  childResults<T>(): Promise<T[]>;
}

/** A child task to run before its parent. */
export interface ChildTask {
  /** A name in TASK_TYPE_LIST (src/tasks/types/index.ts); checked when the parent is submitted. */
  type: string;
  input: object;
}

/**
 * Runs one task type: an injectable provider, paired with its name and its `data` class `D`
 * in TASK_TYPE_LIST (src/tasks/types/index.ts). Throw `PermanentTaskError` for a failure
 * that must not be retried; any other error is retried with backoff.
 *
 * A handler either runs its task itself (`run`), or splits it into child tasks (`children`)
 * and combines their results (`combine`): such a parent keeps no input of its own, since its
 * children carry it all.
 */
export type TaskHandler<D extends object = object, R = unknown> =
  LeafTaskHandler<D, R> | ParentTaskHandler<D, R>;

interface TaskHandlerBase<D extends object> {
  /**
   * Checks beyond the class's decorators; throws `TaskDataError`. Runs when the task is
   * submitted, not again in the worker: `run` must not rely on it for safety.
   */
  check?(data: D): void;
  /**
   * What the task will cost, each figure with its limit; the task is refused (422) at submit
   * when any figure is over its limit. Cheap: it runs on the API's event loop.
   */
  cost?(data: D): readonly TaskCost[];
}

/** Runs a task from its input. */
export interface LeafTaskHandler<
  D extends object = object,
  R = unknown,
> extends TaskHandlerBase<D> {
  run(data: D, context: TaskContext): Promise<R>;
  children?: never;
}

/** Splits a task into children that run first, then combines their results. */
export interface ParentTaskHandler<
  D extends object = object,
  R = unknown,
> extends TaskHandlerBase<D> {
  children(data: D): ChildTask[];
  combine(context: TaskContext): Promise<R>;
}
