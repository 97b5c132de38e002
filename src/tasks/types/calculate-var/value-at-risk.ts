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
  factorPsd,
  type Matrix,
  type PsdFactor,
  quadraticForm,
  sampleMoments,
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

/**
 * Largest magnitudes accepted: far beyond any real portfolio (a position of a thousand
 * trillion, a daily return of 100,000 %), and small enough that no sum or product of them
 * overflows, so every result is finite.
 */
export const VAR_MAGNITUDES = { value: 1e15, return: 1e3, covariance: 1e6 } as const;

/**
 * Checks what the DTO cannot: shapes that depend on each other, conflicting fields,
 * magnitudes, PSD, enough history. Returns the explicit covariance's factor, when there is one.
 */
export function checkVarRequest(request: VarRequest): PsdFactor | undefined {
  const assets = request.positions.map((p) => p.asset);
  const duplicate = assets.find((asset, i) => assets.indexOf(asset) !== i);
  if (duplicate !== undefined) {
    throw new VarInputError(
      '/positions',
      `asset "${duplicate}" appears twice; give one position per asset`,
    );
  }
  checkMagnitudes(request);
  const m = assets.length;
  if (request.returns !== undefined) {
    const clash = (['covariance', 'mean'] as const).find((field) => request[field] !== undefined);
    if (clash !== undefined) {
      throw new VarInputError(
        `/${clash}`,
        `"returns" and "${clash}" conflict: with "returns" the mean and covariance are estimated from the history; give either "returns" or "covariance" (and optionally "mean"), not both`,
      );
    }
    checkReturns(request, assets);
  }
  if (request.method === 'historical') {
    if (request.returns === undefined) {
      throw new VarInputError(
        '/returns',
        'the historical method needs "returns": a series of daily returns per asset',
      );
    }
    return undefined;
  }
  if (request.covariance === undefined) {
    if (request.returns === undefined) {
      throw new VarInputError(
        '/covariance',
        `the ${request.method} method needs "covariance" (and optionally "mean"), or "returns" to estimate them from`,
      );
    }
    return undefined;
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
  if (!(asymmetry(cov) <= 1e-9)) {
    throw new VarInputError(
      '/covariance',
      'covariance is not symmetric: entry [i][j] must equal [j][i]',
    );
  }
  const factor = factorPsd(cov);
  if (factor.kind === 'not-psd') {
    throw new VarInputError(
      '/covariance',
      `covariance is not positive semi-definite: its LDLᵀ factorisation leaves ${factor.residual.toPrecision(3)} where a PSD matrix leaves at most ±${factor.allowance.toPrecision(3)} (1e-10 × its largest entry); check the correlations are consistent`,
    );
  }
  return factor;
}

/** Every number within VAR_MAGNITUDES (and finite), pointing at the first that is not. */
function checkMagnitudes(request: VarRequest): void {
  const within = (x: number, limit: number): boolean => Math.abs(x) <= limit;
  const tooBig = (pointer: string, what: string, limit: number): VarInputError =>
    new VarInputError(
      pointer,
      `${what} must be a finite number of magnitude at most ${limit.toExponential()}; larger values would overflow the calculation`,
    );
  request.positions.forEach((p, i) => {
    if (!within(p.value, VAR_MAGNITUDES.value))
      throw tooBig(`/positions/${i}/value`, "a position's value", VAR_MAGNITUDES.value);
  });
  request.mean?.forEach((x, i) => {
    if (!within(x, VAR_MAGNITUDES.return))
      throw tooBig(`/mean/${i}`, 'a mean return', VAR_MAGNITUDES.return);
  });
  request.covariance?.forEach((row, i) =>
    row.forEach((x, j) => {
      if (!within(x, VAR_MAGNITUDES.covariance))
        throw tooBig(`/covariance/${i}/${j}`, 'a covariance', VAR_MAGNITUDES.covariance);
    }),
  );
  for (const [asset, series] of Object.entries(request.returns ?? {})) {
    const t = series.findIndex((x) => !within(x, VAR_MAGNITUDES.return));
    if (t >= 0)
      throw tooBig(`/returns/${escapePointer(asset)}/${t}`, 'a return', VAR_MAGNITUDES.return);
  }
}

/** RFC 6901: `~` and `/` in a key. */
function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

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

/** A result that is not a finite number: the task fails with this, never returns `null`. */
export class VarNotFiniteError extends Error {
  override readonly name = this.constructor.name;
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
  const factor = checkVarRequest(request);
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
    return finite({ ...base, ...tailOf(losses, request.confidence), observations: losses.length });
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
    return finite({
      ...base,
      var: round(z * sigma - mu),
      expected_shortfall: round((sigma * normalPdf(z)) / (1 - request.confidence) - mu),
      observations,
    });
  }

  const root = factor ?? factorPsd(moments.covariance);
  if (root.kind === 'not-psd') {
    // A sample covariance is PSD; only rounding on extreme inputs could make it otherwise.
    throw new VarInputError(
      '/returns',
      'the covariance estimated from these returns is not positive semi-definite within rounding; give "covariance" instead',
    );
  }
  const simulations = request.simulations ?? DEFAULT_SIMULATIONS;
  const seed = request.seed ?? DEFAULT_SEED;
  const losses = await simulateLosses(
    values,
    moments.mean,
    root,
    request.horizon_days,
    simulations,
    seed,
    onProgress,
  );
  return finite({
    ...base,
    ...tailOf(losses, request.confidence),
    observations,
    simulations,
    seed,
  });
}

/** Draws h-day returns B z √h + μ h, with B Bᵀ = Σ from the covariance's LDLᵀ factor. */
async function simulateLosses(
  values: readonly number[],
  mean: readonly number[],
  factor: PsdFactor,
  horizon: number,
  simulations: number,
  seed: number,
  onProgress: (fraction: number) => Promise<void>,
): Promise<number[]> {
  const m = values.length;
  const { rank, root, width } = factor;
  const scale = Math.sqrt(horizon);
  let drift = 0;
  for (let i = 0; i < m; i++) drift += values[i] * mean[i] * horizon;
  const random = new SeededRandom(seed);
  const losses = new Array<number>(simulations);
  const z = new Float64Array(rank);
  const batch = Math.max(1, Math.ceil(simulations / 10));
  for (let s = 0; s < simulations; s++) {
    for (let k = 0; k < rank; k++) z[k] = random.normal();
    let pnl = 0;
    for (let i = 0; i < m; i++) {
      let shock = 0;
      const row = i * rank;
      for (let c = 0; c < width[i]; c++) shock += root[row + c] * z[c];
      pnl += values[i] * shock;
    }
    losses[s] = -(drift + pnl * scale);
    if ((s + 1) % batch === 0 && s + 1 < simulations) await onProgress((s + 1) / simulations);
  }
  return losses;
}

/** The result, if its every number is finite; else the task fails, naming what overflowed. */
function finite(result: VarResult): VarResult {
  const bad = (['var', 'expected_shortfall', 'portfolio_value'] as const).filter(
    (field) => !Number.isFinite(result[field]),
  );
  if (bad.length > 0) {
    throw new VarNotFiniteError(
      `the ${bad.join(' and ')} came out as ${bad.map((f) => String(result[f])).join(' and ')}, not a finite number; check the magnitudes of the positions, returns and covariance`,
    );
  }
  return result;
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
