import { registerDecorator } from 'class-validator';
import { isTaskQueue, TASK_QUEUES } from './queue-names';

/** A comma-separated list of distinct task queue names, e.g. `high,medium`. */
export function IsQueueList(): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isQueueList',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate(value: unknown): boolean {
          if (typeof value !== 'string') return false;
          const names = value.split(',').map((q) => q.trim());
          return names.every(isTaskQueue) && new Set(names).size === names.length;
        },
        defaultMessage(): string {
          return `must list distinct queues from ${TASK_QUEUES.join(', ')}, comma-separated, e.g. high,medium`;
        },
      },
    });
  };
}
