/**
 * What a task will cost to run, declared by its handler and checked against a limit when the
 * task is submitted, so that no one task can hold a worker for long.
 * @see docs/tasks.md#cost-limits
 */
export interface TaskCost {
  /** The figure, in `unit`. */
  readonly amount: number;
  /** e.g. `operations` (multiply-adds) or `ms` (time holding a worker slot). */
  readonly unit: string;
  /** How the figure is reckoned, e.g. `assets³ + simulations × assets² = 200³ + 10000 × 200²`. */
  readonly formula: string;
  /** The largest amount allowed. */
  readonly limit: number;
  /** The setting that holds `limit`, e.g. `TASK_VAR_MAX_OPERATIONS`. */
  readonly setting: string;
  /** What the client can change to fit, e.g. `use fewer simulations or assets`. */
  readonly fix: string;
  /** Where in `data` the cost comes from, when it is a part of it (a JSON pointer). */
  readonly pointer?: string;
}

/** A task whose declared cost is over its limit (HTTP 422). */
export class TaskCostError extends Error {
  override readonly name = this.constructor.name;

  constructor(
    readonly type: string,
    readonly cost: TaskCost,
  ) {
    super(
      `${type}${cost.pointer ? ` (at /data${cost.pointer})` : ''} would cost ${figure(cost.amount)} ${cost.unit} (${cost.formula}), over the limit of ${figure(cost.limit)} set by ${cost.setting}; ${cost.fix}, or raise ${cost.setting}`,
    );
  }
}

/** 40000000000 as 4e+10, 600000 as 600000: exact below a million, short above. */
function figure(x: number): string {
  return x < 1e6 ? String(x) : x.toExponential(3).replace(/\.?0+e/, 'e');
}
