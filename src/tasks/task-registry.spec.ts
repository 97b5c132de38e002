import type { DiscoveryService } from '@nestjs/core';
import { type TaskCost, TaskCostError } from './task-cost';
import { TaskDataError } from './task-data.error';
import type { TaskHandler } from './task-handler';
import { TaskRegistry, TaskRegistryError } from './task-registry';
import { EchoData } from './types/echo/echo.data';

const handler = (
  check?: (data: object) => void,
  cost?: (data: object) => TaskCost[],
): TaskHandler => ({
  dataClass: EchoData,
  check,
  cost,
  run: () => Promise.resolve(null),
});

const all = (): { type: string; name: string; instance: TaskHandler }[] => [
  { type: 'calculate_var', name: 'CalculateVarHandler', instance: handler() },
  { type: 'batch_var', name: 'BatchVarHandler', instance: handler() },
  { type: 'echo', name: 'EchoHandler', instance: handler() },
];

describe(TaskRegistry.name, () => {
  const registry = (): TaskRegistry => new TaskRegistry({} as DiscoveryService);

  it('accepts exactly one handler per task type', () => {
    const r = registry();
    r.register(all());
    expect(r.handler('echo')).toBeDefined();
  });

  it('refuses to start when a type has no handler, naming it and the fix', () => {
    expect(() => registry().register(all().filter((h) => h.type !== 'batch_var'))).toThrow(
      new TaskRegistryError(
        `Task handlers do not match the task types:\n  - task type "batch_var" has no handler: add a provider decorated with @HandlesTask('batch_var')`,
      ),
    );
  });

  it('refuses to start when a type has two handlers, naming both', () => {
    const twice = [...all(), { type: 'echo', name: 'OtherEchoHandler', instance: handler() }];
    expect(() => registry().register(twice)).toThrow(
      /task type "echo" has 2 handlers \(EchoHandler, OtherEchoHandler\): keep one/,
    );
  });

  it('refuses a handler for a type that does not exist', () => {
    const extra = [...all(), { type: 'ehco', name: 'TypoHandler', instance: handler() }];
    expect(() => registry().register(extra)).toThrow(
      /TypoHandler handles "ehco", which is not in TASK_TYPES/,
    );
  });

  it('parses input with the type’s class and checks, locating problems under /data', () => {
    const r = registry();
    r.register(all());
    expect(() => r.parse('echo', { delay_ms: -1 })).toThrow(TaskDataError);
    try {
      r.parse('echo', { delay_ms: -1, extra: true });
    } catch (error) {
      expect((error as TaskDataError).problems).toEqual(
        expect.arrayContaining([
          { pointer: '/data/delay_ms', detail: 'must not be less than 0' },
          { pointer: '/data/extra', detail: 'is not a known field; remove it' },
        ]),
      );
    }
    expect(r.parse('echo', { message: 'hi' })).toMatchObject({ message: 'hi', delay_ms: 0 });
  });

  it('admits input only when its own checks pass; a worker’s parse does not run them', () => {
    const r = registry();
    const refuse = (): void => {
      throw new TaskDataError([{ pointer: '/data/message', detail: 'no' }]);
    };
    r.register(all().map((h) => (h.type === 'echo' ? { ...h, instance: handler(refuse) } : h)));
    expect(() => r.admit('echo', { message: 'hi' })).toThrow(TaskDataError);
    expect(r.parse('echo', { message: 'hi' })).toMatchObject({ message: 'hi' });
  });

  it('refuses a task over its declared cost, naming the figure, the limit and its setting', () => {
    const r = registry();
    const cost = (data: object): TaskCost[] => [
      {
        amount: (data as EchoData).delay_ms,
        unit: 'ms',
        formula: 'delay_ms',
        limit: 1000,
        setting: 'TASK_ECHO_MAX_DELAY_MS',
        fix: 'ask for a shorter delay_ms',
      },
    ];
    r.register(
      all().map((h) => (h.type === 'echo' ? { ...h, instance: handler(undefined, cost) } : h)),
    );
    expect(r.admit('echo', { delay_ms: 1000 })).toMatchObject({ delay_ms: 1000 });
    const error = (() => {
      try {
        r.admit('echo', { delay_ms: 250_000 });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(TaskCostError);
    expect((error as Error).message).toBe(
      'echo would cost 250000 ms (delay_ms), over the limit of 1000 set by TASK_ECHO_MAX_DELAY_MS; ask for a shorter delay_ms, or raise TASK_ECHO_MAX_DELAY_MS',
    );
  });
});
