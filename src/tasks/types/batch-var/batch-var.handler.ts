import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../../config/app-config';
import type { TaskCost } from '../../task-cost';
import type { ChildTask, ParentTaskHandler, TaskContext } from '../../task-handler';
import { checkVarData, varCost } from '../calculate-var/calculate-var.handler';
import { varOperations, type VarResult } from '../calculate-var/var-request';
import { BatchVarData } from './batch-var.data';

export interface BatchVarResult {
  portfolios: number;
  /** One result per portfolio, in the order given. */
  results: VarResult[];
  /** Sum of the portfolios' VaR: an upper bound of the combined VaR for subadditive measures. */
  sum_of_var: number;
  sum_of_expected_shortfall: number;
  largest: { index: number; var: number };
}

/**
 * `batch_var`: many portfolios at once. Each portfolio is a child `calculate_var` task (a
 * BullMQ flow); this parent runs once all children have finished and aggregates them. It keeps
 * no input of its own: the portfolios are stored once, in the children.
 */
@Injectable()
export class BatchVarHandler implements ParentTaskHandler<BatchVarData, BatchVarResult> {
  constructor(private readonly config: AppConfig) {}

  check(data: BatchVarData): void {
    data.portfolios.forEach((portfolio, i) => checkVarData(portfolio, `/portfolios/${i}`));
  }

  /** Each portfolio is a `calculate_var` and meets its limit; the batch's sum meets its own. */
  cost(data: BatchVarData): TaskCost[] {
    const each = data.portfolios.map((portfolio, i) =>
      varCost(portfolio, this.config.TASK_VAR_MAX_OPERATIONS, `/portfolios/${i}`),
    );
    const total: TaskCost = {
      amount: data.portfolios.reduce((sum, p) => sum + varOperations(p), 0),
      unit: 'operations',
      formula: `the sum over ${data.portfolios.length} portfolios of each one's operations`,
      limit: this.config.TASK_BATCH_MAX_OPERATIONS,
      setting: 'TASK_BATCH_MAX_OPERATIONS',
      fix: 'split the batch, or use fewer simulations or assets',
    };
    return [...each, total];
  }

  children(data: BatchVarData): ChildTask[] {
    return data.portfolios.map((portfolio) => ({ type: 'calculate_var', input: portfolio }));
  }

  async combine(context: TaskContext): Promise<BatchVarResult> {
    const results = await context.childResults<VarResult>();
    let largest = { index: 0, var: -Infinity };
    results.forEach((r, index) => {
      if (r.var > largest.var) largest = { index, var: r.var };
    });
    return {
      portfolios: results.length,
      results,
      sum_of_var: results.reduce((sum, r) => sum + r.var, 0),
      sum_of_expected_shortfall: results.reduce((sum, r) => sum + r.expected_shortfall, 0),
      largest,
    };
  }
}
