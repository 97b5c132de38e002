import {
  HandlesTask,
  type ChildTask,
  type ParentTaskHandler,
  type TaskContext,
} from '../../task-handler';
import { checkVarData } from '../calculate-var/calculate-var.handler';
import type { VarResult } from '../calculate-var/value-at-risk';
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
@HandlesTask('batch_var')
export class BatchVarHandler implements ParentTaskHandler<BatchVarData, BatchVarResult> {
  readonly dataClass = BatchVarData;

  check(data: BatchVarData): void {
    data.portfolios.forEach((portfolio, i) => checkVarData(portfolio, `/portfolios/${i}`));
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
