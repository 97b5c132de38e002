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
import { factorPsd, type PsdFactor, quadraticForm, sampleMoments } from './linear-algebra';
import { normalPdf, normalQuantile } from './normal-distribution';
import { SeededRandom } from './random';
import { checkVarRequest, VarInputError } from './var-input';
import { DEFAULT_SEED, DEFAULT_SIMULATIONS, type VarRequest, type VarResult } from './var-request';

/** A result that is not a finite number: the task fails with this, never returns `null`. */
export class VarNotFiniteError extends Error {
  override readonly name = this.constructor.name;
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
