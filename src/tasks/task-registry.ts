import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { validatePlain } from '../validation/validate-plain';
import { TaskCostError } from './task-cost';
import { TaskDataError } from './task-data.error';
import { TASK_HANDLER_METADATA, TASK_TYPES, type TaskHandler, type TaskType } from './task-handler';

/** Raised at start-up when the task types and their handlers do not match one to one. */
export class TaskRegistryError extends Error {
  override readonly name = this.constructor.name;
}

/** Finds the handler of each task type and validates task input against it. */
@Injectable()
export class TaskRegistry implements OnModuleInit {
  private readonly handlers = new Map<TaskType, TaskHandler>();

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    const found = this.discovery
      .getProviders()
      .filter((wrapper) => wrapper.metatype && wrapper.instance)
      .map((wrapper) => ({
        type: Reflect.getMetadata(TASK_HANDLER_METADATA, wrapper.metatype as object) as unknown,
        name: (wrapper.metatype as { name: string }).name,
        instance: wrapper.instance as TaskHandler,
      }))
      .filter(
        (h): h is { type: string; name: string; instance: TaskHandler } =>
          typeof h.type === 'string',
      );
    this.register(found);
  }

  /** Checks that every type has exactly one handler; exported for tests. */
  register(found: readonly { type: string; name: string; instance: TaskHandler }[]): void {
    const problems: string[] = [];
    for (const type of TASK_TYPES) {
      const mine = found.filter((h) => h.type === type);
      if (mine.length === 0)
        problems.push(
          `task type "${type}" has no handler: add a provider decorated with @HandlesTask('${type}')`,
        );
      if (mine.length > 1)
        problems.push(
          `task type "${type}" has ${mine.length} handlers (${mine.map((h) => h.name).join(', ')}): keep one`,
        );
      if (mine.length === 1) this.handlers.set(type, mine[0].instance);
    }
    for (const h of found) {
      if (!(TASK_TYPES as readonly string[]).includes(h.type)) {
        problems.push(
          `${h.name} handles "${h.type}", which is not in TASK_TYPES: add it there or fix the name`,
        );
      }
    }
    if (problems.length > 0) {
      throw new TaskRegistryError(
        `Task handlers do not match the task types:\n  - ${problems.join('\n  - ')}`,
      );
    }
  }

  handler(type: TaskType): TaskHandler {
    const handler = this.handlers.get(type);
    if (!handler) throw new TaskRegistryError(`no handler for task type "${type}"`);
    return handler;
  }

  /**
   * Reads a task's input into its type's class, checking what the class's decorators say
   * (and no more: what a worker does before running a task it was given).
   * @throws TaskDataError naming each problem by its pointer under `/data`
   */
  parse(type: TaskType, input: unknown): object {
    const { value, problems } = validatePlain(this.handler(type).dataClass, input, '/data');
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
}

export function isTaskType(value: unknown): value is TaskType {
  return typeof value === 'string' && (TASK_TYPES as readonly string[]).includes(value);
}
