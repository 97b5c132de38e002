/**
 * The checks a `calculate_var` input must pass beyond its class's decorators: shapes that
 * depend on each other, conflicting fields, magnitudes, a positive semi-definite covariance,
 * enough history. The API runs them at submit, and the computing thread again before it computes.
 * @see docs/tasks.md#calculate_var
 */
import { asymmetry, factorPsd, type PsdFactor } from './linear-algebra';
import type { VarRequest } from './var-request';

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

/** Fewest observations a sample estimate accepts, for a given confidence. */
export function minimumObservations(confidence: number): number {
  return Math.max(30, Math.ceil(1 / (1 - confidence) - 1e-9));
}

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
