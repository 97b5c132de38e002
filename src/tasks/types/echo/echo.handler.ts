import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../../../config/app-config';
import type { TaskCost } from '../../task-cost';
import { PermanentTaskError } from '../../permanent-task.error';
import { TaskDataError } from '../../task-data.error';
import type { LeafTaskHandler, TaskContext } from '../../task-handler';
import { EchoData } from './echo.data';

export interface EchoResult {
  message: unknown;
  attempt: number;
  delay_ms: number;
}

/** Largest `message` echo accepts, as JSON: it is stored again as the result. */
export const ECHO_MAX_MESSAGE_BYTES = 4096;

/** Raised by `echo` when asked for a retryable failure. */
export class InjectedFailureError extends Error {
  override readonly name = this.constructor.name;
}

/** `echo`: returns its input after an optional delay; for smoke tests, demos and benchmarks. */
@Injectable()
export class EchoHandler implements LeafTaskHandler<EchoData, EchoResult> {
  constructor(private readonly config: AppConfig) {}

  check(data: EchoData): void {
    const messageBytes = Buffer.byteLength(JSON.stringify(data.message ?? null));
    if (messageBytes > ECHO_MAX_MESSAGE_BYTES) {
      throw new TaskDataError([
        {
          pointer: '/data/message',
          detail: `is ${messageBytes} bytes of JSON; echo returns it as its result, kept for RESULT_TTL_S, so it may be at most ${ECHO_MAX_MESSAGE_BYTES} bytes`,
        },
      ]);
    }
    if (data.fail && !this.config.TASK_FAULT_INJECTION) {
      throw new TaskDataError([
        {
          pointer: '/data/fail',
          detail:
            'fault injection is off; set TASK_FAULT_INJECTION=true on the API and the workers to use it',
        },
      ]);
    }
  }

  /** An echo costs the time it holds a worker slot. */
  cost(data: EchoData): TaskCost[] {
    return [
      {
        amount: data.delay_ms,
        unit: 'ms',
        formula: 'delay_ms, the time it holds a worker slot',
        limit: this.config.TASK_ECHO_MAX_DELAY_MS,
        setting: 'TASK_ECHO_MAX_DELAY_MS',
        fix: 'ask for a shorter delay_ms',
        pointer: '/delay_ms',
      },
    ];
  }

  async run(data: EchoData, context: TaskContext): Promise<EchoResult> {
    const steps = data.delay_ms >= 100 ? 10 : data.delay_ms > 0 ? 1 : 0;
    for (let step = 1; step <= steps; step++) {
      await sleep(data.delay_ms / steps);
      if (step < steps) await context.progress(step * 10);
    }
    const fail = data.fail;
    if (
      fail &&
      this.config.TASK_FAULT_INJECTION &&
      context.attempt <= (fail.attempts ?? Infinity)
    ) {
      if (fail.kind === 'crash') process.kill(process.pid, 'SIGKILL');
      if (fail.kind === 'fatal')
        throw new PermanentTaskError(`injected fatal failure on attempt ${context.attempt}`);
      throw new InjectedFailureError(`injected retryable failure on attempt ${context.attempt}`);
    }
    return { message: data.message ?? null, attempt: context.attempt, delay_ms: data.delay_ms };
  }
}
