import { TaskDataError } from '../../task-data.error';
import { HandlesTask, type LeafTaskHandler, type TaskContext } from '../../task-handler';
import { CalculateVarData } from './calculate-var.data';
import { checkVarRequest, computeVar, VarInputError, type VarResult } from './value-at-risk';

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

/** `calculate_var`: portfolio Value-at-Risk and Expected Shortfall. */
@HandlesTask('calculate_var')
export class CalculateVarHandler implements LeafTaskHandler<CalculateVarData, VarResult> {
  readonly dataClass = CalculateVarData;

  check(data: CalculateVarData): void {
    checkVarData(data);
  }

  run(data: CalculateVarData, context: TaskContext): Promise<VarResult> {
    return computeVar(data, (fraction) => context.progress(Math.round(fraction * 100)));
  }
}
