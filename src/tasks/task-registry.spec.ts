import { Test } from '@nestjs/testing';
import type { ModuleRef } from '@nestjs/core';
import { ConfigModule } from '../config/config.module';
import { loadConfig } from '../config/load-config';
import { type TaskCost, TaskCostError } from './task-cost';
import { TaskDataError } from './task-data.error';
import type { TaskHandler } from './task-handler';
import { type RegisteredTaskType, TaskRegistry, TaskRegistryError } from './task-registry';
import { taskType } from './task-type';
import { TaskTypesModule } from './task-types.module';
import { TASK_TYPE_LIST, TASK_TYPES } from './types';
import { CalculateVarData } from './types/calculate-var/calculate-var.data';
import { EchoData } from './types/echo/echo.data';
import { EchoHandler } from './types/echo/echo.handler';

const handler = (
  check?: (data: object) => void,
  cost?: (data: object) => TaskCost[],
): TaskHandler => ({
  check,
  cost,
  run: () => Promise.resolve(null),
});

const all = (): RegisteredTaskType[] => [
  { type: 'calculate_var', name: 'CalculateVarHandler', instance: handler(), data: EchoData },
  { type: 'batch_var', name: 'BatchVarHandler', instance: handler(), data: EchoData },
  { type: 'echo', name: 'EchoHandler', instance: handler(), data: EchoData },
];

describe(TaskRegistry.name, () => {
  const registry = (): TaskRegistry => new TaskRegistry({} as ModuleRef);

  it('accepts exactly one handler per task type', () => {
    const r = registry();
    r.register(all());
    expect(r.handler('echo')).toBeDefined();
  });

  it('provides a handler for every listed type, and lists each name clients may send', async () => {
    const app = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(loadConfig({})), TaskTypesModule],
    }).compile();
    await app.init();
    const r = app.get(TaskRegistry);
    for (const type of TASK_TYPE_LIST) expect(r.handler(type.name)).toBeInstanceOf(type.handler);
    expect(TASK_TYPES).toEqual(['calculate_var', 'batch_var', 'echo']);
    await app.close();
  });

  it('takes no entry without a handler, or whose handler takes another data class', () => {
    // Checked by the compiler (npm run typecheck): each line must fail to compile.
    // @ts-expect-error: a task type needs a handler
    expect(taskType({ name: 'no_handler', data: EchoData }).name).toBe('no_handler');
    // @ts-expect-error: EchoHandler runs EchoData, not CalculateVarData
    expect(taskType({ name: 'mismatch', handler: EchoHandler, data: CalculateVarData }).name).toBe(
      'mismatch',
    );
  });

  it('refuses to start when a type has two handlers, naming both', () => {
    const twice = [
      ...all(),
      { type: 'echo', name: 'OtherEchoHandler', instance: handler(), data: EchoData },
    ];
    expect(() => registry().register(twice)).toThrow(
      /task type "echo" has 2 handlers \(EchoHandler, OtherEchoHandler\): keep one/,
    );
  });

  it.each(['Echo', 'echo task', 'echo-task', '', '9lives', 'x'.repeat(65)])(
    'refuses to start with a type named %p, which clients could not send as it is, saying which names are valid',
    (name) => {
      const bad = [
        ...all(),
        { type: name, name: 'BadHandler', instance: handler(), data: EchoData },
      ];
      expect(() => registry().register(bad)).toThrow(
        new TaskRegistryError(
          `TASK_TYPE_LIST (src/tasks/types/index.ts) is not valid:\n  - task type "${name}" is not a valid name: use 1-64 of a-z, 0-9 and _, starting with a letter`,
        ),
      );
    },
  );

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
