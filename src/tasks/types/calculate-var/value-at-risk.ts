/**
 * Portfolio Value-at-Risk and Expected Shortfall, three ways. Losses are positive numbers in
 * the portfolio's currency; returns are simple daily returns.
 *
 * - historical: the portfolio P&L of each observed day, scaled to the horizon by √h.
 * - parametric: normal P&L with mean μ_p·h and st. dev. σ_p·√h; VaR = z_c σ_p √h − μ_p h.
 * - monte_carlo: seeded draws of multivariate-normal h-day returns.
 *
 * For samples (historical, monte_carlo) with n outcomes and k = ⌈n(1 − c)⌉: VaR is the k-th
 * worst loss, ES the mean of the k worst losses.
 * @see docs/tasks.md#calculate_var
 */
import {
  asymmetry,
  type Matrix,
  psdSquareRoot,
  quadraticForm,
  sampleMoments,
  symmetricEigen,
} from './linear-algebra';
import { normalPdf, normalQuantile } from './normal-distribution';
import { SeededRandom } from './random';

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

/** Fewest observations a sample estimate accepts, for a given confidence. */
export function minimumObservations(confidence: number): number {
  return Math.max(30, Math.ceil(1 / (1 - confidence) - 1e-9));
}

export const DEFAULT_SIMULATIONS = 10_000;
export const DEFAULT_SEED = 1;

/** A request that is well-formed JSON but cannot be computed; `pointer` names the field within it. */
export class VarInputError extends Error {
  override readonly name = this.constructor.name;
  constructor(
    readonly pointer: string,
    message: string,
  ) {
    super(message);
  }
}

/** Checks what the DTO cannot: shapes that depend on each other, PSD, enough history. */
export function checkVarRequest(request: VarRequest): void {
  const assets = request.positions.map((p) => p.asset);
  const duplicate = assets.find((asset, i) => assets.indexOf(asset) !== i);
  if (duplicate !== undefined) {
    throw new VarInputError(
      '/positions',
      `asset "${duplicate}" appears twice; give one position per asset`,
    );
  }
  const m = assets.length;
  if (request.returns !== undefined) checkReturns(request, assets);
  if (request.method === 'historical') {
    if (request.returns === undefined) {
      throw new VarInputError(
        '/returns',
        'the historical method needs "returns": a series of daily returns per asset',
      );
    }
    return;
  }
  if (request.covariance === undefined) {
    if (request.returns === undefined) {
      throw new VarInputError(
        '/covariance',
        `the ${request.method} method needs "covariance" (and optionally "mean"), or "returns" to estimate them from`,
      );
    }
    if (request.mean !== undefined) {
      throw new VarInputError(
        '/mean',
        '"mean" goes with "covariance"; with "returns" both are estimated from the history',
      );
    }
    return;
  }
  const cov = request.covariance;
  if (cov.length !== m || cov.some((row) => row.length !== m)) {
    throw new VarInputError(
      '/covariance',
      `covariance must be ${m}×${m}, one row and column per position in order`,
    );
  }
  if (request.mean !== undefined && request.mean.length !== m) {
    throw new VarInputError('/mean', `mean must have ${m} values, one per position in order`);
  }
  if (asymmetry(cov) > 1e-9) {
    throw new VarInputError(
      '/covariance',
      'covariance is not symmetric: entry [i][j] must equal [j][i]',
    );
  }
  const { values } = symmetricEigen(cov);
  const largest = Math.max(...values.map(Math.abs));
  const smallest = values[0];
  if (smallest < -1e-10 * Math.max(largest, 1e-300)) {
    throw new VarInputError(
      '/covariance',
      `covariance is not positive semi-definite (smallest eigenvalue ${smallest.toPrecision(3)}); check the correlations are consistent`,
    );
  }
}

function checkReturns(request: VarRequest, assets: readonly string[]): void {
  const returns = request.returns ?? {};
  const missing = assets.filter((asset) => !Object.hasOwn(returns, asset));
  if (missing.length > 0) {
    throw new VarInputError(
      '/returns',
      `returns lack a series for ${missing.map((a) => `"${a}"`).join(', ')}`,
    );
  }
  const extra = Object.keys(returns).filter((asset) => !assets.includes(asset));
  if (extra.length > 0) {
    throw new VarInputError(
      '/returns',
      `returns have a series for ${extra.map((a) => `"${a}"`).join(', ')}, which is not a position`,
    );
  }
  const lengths = new Set(assets.map((asset) => returns[asset].length));
  if (lengths.size > 1) {
    throw new VarInputError(
      '/returns',
      "every asset's return series must have the same length (one value per day)",
    );
  }
  const n = returns[assets[0]].length;
  const needed = minimumObservations(request.confidence);
  if (n < needed) {
    throw new VarInputError(
      '/returns',
      `too few observations: ${n} given, confidence ${request.confidence} needs at least ${needed}`,
    );
  }
  if (request.method !== 'historical' && n <= assets.length) {
    throw new VarInputError(
      '/returns',
      `estimating a ${assets.length}×${assets.length} covariance needs more than ${assets.length} observations`,
    );
  }
}

/** Computes VaR and ES; `onProgress` (0..1) is awaited between Monte Carlo batches. */
export async function computeVar(
  request: VarRequest,
  onProgress: (fraction: number) => Promise<void> = () => Promise.resolve(),
): Promise<VarResult> {
  checkVarRequest(request);
  const values = request.positions.map((p) => p.value);
  const base = {
    method: request.method,
    confidence: request.confidence,
    horizon_days: request.horizon_days,
    portfolio_value: round(values.reduce((a, b) => a + b, 0)),
  };
  const rows = request.returns ? returnRows(request) : undefined;

  if (request.method === 'historical') {
    const scale = Math.sqrt(request.horizon_days);
    const losses = (rows ?? []).map((row) => -dot(values, row) * scale);
    return { ...base, ...tailOf(losses, request.confidence), observations: losses.length };
  }

  const moments = rows
    ? sampleMoments(rows)
    : { mean: request.mean ?? values.map(() => 0), covariance: request.covariance ?? [] };
  const observations = rows ? rows.length : null;

  if (request.method === 'parametric') {
    const h = request.horizon_days;
    const mu = dot(values, moments.mean) * h;
    const sigma = Math.sqrt(Math.max(quadraticForm(moments.covariance, values), 0) * h);
    const z = normalQuantile(request.confidence);
    return {
      ...base,
      var: round(z * sigma - mu),
      expected_shortfall: round((sigma * normalPdf(z)) / (1 - request.confidence) - mu),
      observations,
    };
  }

  const simulations = request.simulations ?? DEFAULT_SIMULATIONS;
  const seed = request.seed ?? DEFAULT_SEED;
  const losses = await simulateLosses(
    values,
    moments,
    request.horizon_days,
    simulations,
    seed,
    onProgress,
  );
  return { ...base, ...tailOf(losses, request.confidence), observations, simulations, seed };
}

async function simulateLosses(
  values: readonly number[],
  moments: { mean: number[]; covariance: Matrix },
  horizon: number,
  simulations: number,
  seed: number,
  onProgress: (fraction: number) => Promise<void>,
): Promise<number[]> {
  const m = values.length;
  const root = psdSquareRoot(symmetricEigen(moments.covariance));
  const scale = Math.sqrt(horizon);
  const random = new SeededRandom(seed);
  const losses = new Array<number>(simulations);
  const z = new Array<number>(m);
  const batch = Math.max(1, Math.ceil(simulations / 10));
  for (let s = 0; s < simulations; s++) {
    for (let k = 0; k < m; k++) z[k] = random.normal();
    let pnl = 0;
    for (let i = 0; i < m; i++) {
      let shock = 0;
      for (let k = 0; k < m; k++) shock += root[i][k] * z[k];
      pnl += values[i] * (moments.mean[i] * horizon + shock * scale);
    }
    losses[s] = -pnl;
    if ((s + 1) % batch === 0 && s + 1 < simulations) await onProgress((s + 1) / simulations);
  }
  return losses;
}

/** VaR and ES of a sample of losses (see the module comment). */
function tailOf(losses: number[], confidence: number): { var: number; expected_shortfall: number } {
  const sorted = [...losses].sort((a, b) => b - a);
  const k = Math.max(1, Math.ceil(sorted.length * (1 - confidence) - 1e-9));
  const worst = sorted.slice(0, k);
  return {
    var: round(sorted[k - 1]),
    expected_shortfall: round(worst.reduce((a, b) => a + b, 0) / k),
  };
}

function returnRows(request: VarRequest): number[][] {
  const series = request.positions.map((p) => request.returns?.[p.asset] ?? []);
  return series[0].map((_, t) => series.map((s) => s[t]));
}

function dot(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/** Keeps 12 significant digits: far beyond any real precision, free of float noise. */
function round(x: number): number {
  return Number(x.toPrecision(12));
}
