import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { ClassConstructor } from 'class-transformer';
import { validatePlain } from '../validation/validate-plain';
import { TaskCostError } from './task-cost';
import { TaskDataError } from './task-data.error';
import type { TaskHandler } from './task-handler';
import { TASK_TYPE_LIST, TASK_TYPES, type TaskType } from './types';

/** Raised at start-up when the task type list is not one valid name per handler. */
export class TaskRegistryError extends Error {
  override readonly name = this.constructor.name;
}

/** A listed task type with its handler's instance, as {@link TaskRegistry.register} checks it. */
export interface RegisteredTaskType {
  type: string;
  /** The handler's class name, for messages. */
  name: string;
  instance: TaskHandler;
  data: ClassConstructor<object>;
}

/** A task type's name: what clients send, and a job's name in Redis and in log lines. */
const TYPE_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** The handler of each task type in TASK_TYPE_LIST, and validation of task input against it. */
@Injectable()
export class TaskRegistry implements OnModuleInit {
  private readonly types = new Map<TaskType, RegisteredTaskType>();

  constructor(private readonly moduleRef: ModuleRef) {}

  onModuleInit(): void {
    this.register(
      TASK_TYPE_LIST.map((type) => ({
        type: type.name,
        name: type.handler.name,
        instance: this.moduleRef.get<TaskHandler>(type.handler),
        data: type.data,
      })),
    );
  }

  /** Checks that every name is valid and listed once; exported for tests. */
  register(listed: readonly RegisteredTaskType[]): void {
    const problems: string[] = [];
    for (const type of new Set(listed.map((t) => t.type))) {
      const mine = listed.filter((t) => t.type === type);
      if (!TYPE_NAME.test(type)) {
        problems.push(
          `task type "${type}" is not a valid name: use 1-64 of a-z, 0-9 and _, starting with a letter`,
        );
      } else if (mine.length > 1) {
        problems.push(
          `task type "${type}" has ${mine.length} handlers (${mine.map((t) => t.name).join(', ')}): keep one`,
        );
      } else {
        this.types.set(type as TaskType, mine[0]);
      }
    }
    if (problems.length > 0) {
      throw new TaskRegistryError(
        `TASK_TYPE_LIST (src/tasks/types/index.ts) is not valid:\n  - ${problems.join('\n  - ')}`,
      );
    }
  }

  handler(type: TaskType): TaskHandler {
    return this.registered(type).instance;
  }

  /**
   * Reads a task's input into its type's class, checking what the class's decorators say
   * (and no more: what a worker does before running a task it was given).
   * @throws TaskDataError naming each problem by its pointer under `/data`
   */
  parse(type: TaskType, input: unknown): object {
    const { value, problems } = validatePlain(this.registered(type).data, input, '/data');
    if (!value) throw new TaskDataError(problems);
    return value;
  }

  /**
   * Everything a submission must pass: {@link parse}, the handler's own checks, then its
   * declared cost against each limit.
   * @throws TaskDataError naming each problem by its pointer under `/data`
   * @throws TaskCostError naming the figure, the limit and its setting
   */
  admit(type: TaskType, input: unknown): object {
    const handler = this.handler(type);
    const value = this.parse(type, input);
    handler.check?.(value);
    const over = handler.cost?.(value).find((cost) => !(cost.amount <= cost.limit));
    if (over) throw new TaskCostError(type, over);
    return value;
  }

  private registered(type: TaskType): RegisteredTaskType {
    const registered = this.types.get(type);
    if (!registered) throw new TaskRegistryError(`no handler for task type "${type}"`);
    return registered;
  }
}

export function isTaskType(value: unknown): value is TaskType {
  return typeof value === 'string' && (TASK_TYPES as readonly string[]).includes(value);
}
