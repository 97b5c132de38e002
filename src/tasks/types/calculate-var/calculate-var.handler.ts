import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '../../../config/app-config';
import { ThreadPool, ThreadTaskError, ThreadTimeoutError } from '../../../threads/thread-pool';
import type { TaskCost } from '../../task-cost';
import { PermanentTaskError } from '../../permanent-task.error';
import { TaskDataError } from '../../task-data.error';
import type { LeafTaskHandler, TaskContext } from '../../task-handler';
import { CalculateVarData } from './calculate-var.data';
import { VarNotFiniteError } from './value-at-risk';
import { checkVarRequest, VarInputError } from './var-input';
import { DEFAULT_SIMULATIONS, varOperations, type VarRequest, type VarResult } from './var-request';

/** Converts a VaR input error into a task data error located under `base`. */
export function checkVarData(data: CalculateVarData, base = ''): void {
  try {
    checkVarRequest(data);
  } catch (error) {
    if (error instanceof VarInputError) {
      throw new TaskDataError([{ pointer: `/data${base}${error.pointer}`, detail: error.message }]);
    }
    throw error;
  }
}

/** The declared cost of one portfolio, against TASK_VAR_MAX_OPERATIONS. */
export function varCost(data: VarRequest, limit: number, pointer?: string): TaskCost {
  const m = data.positions.length;
  const n = Math.max(0, ...Object.values(data.returns ?? {}).map((s) => s.length));
  const sims = data.simulations ?? DEFAULT_SIMULATIONS;
  const terms: [string, string][] =
    data.method === 'historical'
      ? [['observations × assets', `${n} × ${m}`]]
      : [
          ['assets³', `${m}³`],
          ...(data.returns ? [['observations × assets²', `${n} × ${m}²`] as [string, string]] : []),
          ...(data.method === 'monte_carlo'
            ? [['simulations × assets²', `${sims} × ${m}²`] as [string, string]]
            : []),
        ];
  return {
    amount: varOperations(data),
    unit: 'operations',
    formula: `${terms.map((t) => t[0]).join(' + ')} = ${terms.map((t) => t[1]).join(' + ')}`,
    limit,
    setting: 'TASK_VAR_MAX_OPERATIONS',
    fix: 'use fewer simulations, observations or assets',
    ...(pointer ? { pointer } : {}),
  };
}

/**
 * `calculate_var`: portfolio Value-at-Risk and Expected Shortfall. The computation runs on a
 * worker thread (a pool of at most WORKER_CONCURRENCY, and no more than the cores), where it
 * cannot stop the worker renewing its locks or running its other tasks.
 */
@Injectable()
export class CalculateVarHandler
  implements LeafTaskHandler<CalculateVarData, VarResult>, OnApplicationShutdown
{
  private pool: ThreadPool | undefined;

  constructor(private readonly config: AppConfig) {}

  check(data: CalculateVarData): void {
    checkVarData(data);
  }

  cost(data: CalculateVarData): TaskCost[] {
    return [varCost(data, this.config.TASK_VAR_MAX_OPERATIONS)];
  }

  async run(data: CalculateVarData, context: TaskContext): Promise<VarResult> {
    // Created on first use: the API, which never runs tasks, starts no thread.
    this.pool ??= new ThreadPool({
      filename: join(__dirname, 'var.thread.js'),
      size: Math.min(this.config.WORKER_CONCURRENCY, availableParallelism()),
      timeoutMs: this.config.TASK_THREAD_TIMEOUT_MS,
      timeoutSetting: 'TASK_THREAD_TIMEOUT_MS',
      // The worker's event loop renews its jobs' locks: it comes before the computation.
      niceness: 10,
    });
    try {
      return await this.pool.run<VarResult>(data, (fraction) =>
        context.progress(Math.round(fraction * 100)),
      );
    } catch (error) {
      throw asTaskError(error);
    }
  }

  /** After the worker has drained its tasks (beforeApplicationShutdown), stop the threads. */
  async onApplicationShutdown(): Promise<void> {
    await this.pool?.close();
  }
}

/** What the worker should do with a failure on the thread: bad input and overruns never retry. */
function asTaskError(error: unknown): unknown {
  if (error instanceof ThreadTimeoutError) return new PermanentTaskError(error.message);
  if (!(error instanceof ThreadTaskError)) return error;
  if (error.thrownName === VarInputError.name) {
    const pointer = typeof error.fields.pointer === 'string' ? error.fields.pointer : '';
    return new TaskDataError([{ pointer: `/data${pointer}`, detail: error.message }]);
  }
  if (error.thrownName === VarNotFiniteError.name) return new PermanentTaskError(error.message);
  return error;
}
