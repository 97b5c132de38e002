/** What a `calculate_var` computation takes and gives; see docs/tasks.md#calculate_var. */
import type { Matrix } from './linear-algebra';

export const VAR_METHODS = ['historical', 'parametric', 'monte_carlo'] as const;
export type VarMethod = (typeof VAR_METHODS)[number];

export interface Position {
  asset: string;
  value: number;
}

export interface VarRequest {
  method: VarMethod;
  positions: Position[];
  /** Daily returns per asset, oldest first, all of one length. */
  returns?: Record<string, number[]>;
  /** Daily mean return per asset, in the order of `positions`. Default: zeros. */
  mean?: number[];
  /** Daily covariance of returns, in the order of `positions`. */
  covariance?: Matrix;
  confidence: number;
  horizon_days: number;
  simulations?: number;
  seed?: number;
}

export interface VarResult {
  method: VarMethod;
  var: number;
  expected_shortfall: number;
  confidence: number;
  horizon_days: number;
  portfolio_value: number;
  /** Observations of history used (historical, or moments estimated from returns). */
  observations: number | null;
  simulations?: number;
  seed?: number;
}

export const DEFAULT_SIMULATIONS = 10_000;
export const DEFAULT_SEED = 1;

/**
 * The work a request takes, counted in multiply-adds, as declared to the cost limit: the
 * covariance's factorisation (assets³), estimating moments from history (observations ×
 * assets²), each simulated day (simulations × assets²); historical revalues each observed day
 * (observations × assets). An upper bound: the factorisation takes a sixth of assets³.
 */
export function varOperations(request: VarRequest): number {
  const m = request.positions.length;
  const observations = Math.max(0, ...Object.values(request.returns ?? {}).map((s) => s.length));
  if (request.method === 'historical') return observations * m;
  const moments = request.returns === undefined ? 0 : observations * m * m;
  const simulations =
    request.method === 'monte_carlo' ? (request.simulations ?? DEFAULT_SIMULATIONS) * m * m : 0;
  return m * m * m + moments + simulations;
}
