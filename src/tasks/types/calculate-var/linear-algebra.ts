/** Small dense linear algebra for covariance matrices (up to a few hundred assets). */

export type Matrix = number[][];

/** Largest |a_ij − a_ji|, relative to the largest |a_ij|; `NaN` when an entry is not finite. */
export function asymmetry(a: Matrix): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < a.length; j++) {
      if (!Number.isFinite(a[i][j])) return NaN;
      scale = Math.max(scale, Math.abs(a[i][j]));
      worst = Math.max(worst, Math.abs(a[i][j] - a[j][i]));
    }
  }
  return scale === 0 ? 0 : worst / scale;
}

/** xᵀ A x */
export function quadraticForm(a: Matrix, x: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    for (let j = 0; j < x.length; j++) sum += x[i] * a[i][j] * x[j];
  }
  return sum;
}

/**
 * What is left of a symmetric matrix's factorisation may differ from zero by this much,
 * relative to its largest entry, and still count as rounding: the PSD test's tolerance.
 */
export const PSD_TOLERANCE = 1e-10;

/** A positive semi-definite matrix A, factored as A = B Bᵀ. */
export interface PsdFactor {
  readonly kind: 'psd';
  /** Columns of B: the numerical rank of A (fewer than n when A is singular). */
  readonly rank: number;
  /**
   * B, n × rank, row-major, rows in A's order: row i has non-zeros in its first
   * `width[i]` columns only (B is lower-triangular up to a permutation of its rows).
   */
  readonly root: Float64Array;
  readonly width: Int32Array;
  /** Multiply-adds the factorisation took: about n³/6 for full rank, n·rank² when singular. */
  readonly operations: number;
}

/** Why a symmetric matrix is not positive semi-definite. */
export interface NotPsd {
  readonly kind: 'not-psd';
  /** The entry of the remaining (Schur complement) block that no PSD matrix could have. */
  readonly residual: number;
  /** The allowance it exceeded: PSD_TOLERANCE × the matrix's largest entry. */
  readonly allowance: number;
  readonly operations: number;
}

/**
 * Factors a symmetric matrix as P L D Lᵀ Pᵀ by LDLᵀ with diagonal (complete) pivoting, the
 * rank-revealing form of Cholesky: at each step the largest remaining diagonal entry is the
 * pivot; once none exceeds the tolerance, what remains must be zero within it. A is PSD
 * (within PSD_TOLERANCE, relative to its largest entry) exactly when that holds, so singular
 * PSD matrices (perfectly correlated assets) pass and B = P L √D is their square root. It
 * costs n³/6 multiply-adds at most and stops early on low rank.
 * @see N. J. Higham, "Analysis of the Cholesky decomposition of a semi-definite matrix" (1990)
 */
export function factorPsd(a: Matrix): PsdFactor | NotPsd {
  const n = a.length;
  let scale = 0;
  for (const row of a) for (const x of row) scale = Math.max(scale, Math.abs(x));
  const allowance = PSD_TOLERANCE * scale;
  // The lower triangle of the working copy, row-major: w[i*n + j] for j <= i.
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) w[i * n + j] = a[i][j];
  const order = Array.from({ length: n }, (_, i) => i);
  const pivots = new Float64Array(n);
  let operations = 0;
  let rank = 0;
  for (; rank < n; rank++) {
    const k = rank;
    let p = k;
    for (let i = k; i < n; i++) {
      const d = w[i * n + i];
      if (!Number.isFinite(d)) return { kind: 'not-psd', residual: d, allowance, operations };
      if (d > w[p * n + p]) p = i;
    }
    const pivot = w[p * n + p];
    if (!(pivot > allowance)) {
      // No variance left above rounding: a PSD remainder is then zero within the allowance.
      for (let i = k; i < n; i++) {
        for (let j = k; j <= i; j++) {
          const x = w[i * n + j];
          if (!(Math.abs(x) <= allowance))
            return { kind: 'not-psd', residual: x, allowance, operations };
        }
      }
      break;
    }
    if (p !== k) swapSymmetric(w, n, k, p, order);
    pivots[k] = pivot;
    // Column k of L, then the rank-one update of the remaining lower triangle.
    for (let i = k + 1; i < n; i++) w[i * n + k] /= pivot;
    for (let i = k + 1; i < n; i++) {
      const lik = w[i * n + k] * pivot;
      for (let j = k + 1; j <= i; j++) w[i * n + j] -= lik * w[j * n + k];
      operations += i - k;
    }
  }
  const root = new Float64Array(n * rank);
  const width = new Int32Array(n);
  for (let position = 0; position < n; position++) {
    const row = order[position];
    const columns = Math.min(position + 1, rank);
    width[row] = columns;
    for (let c = 0; c < columns; c++) {
      const l = c === position ? 1 : w[position * n + c];
      root[row * rank + c] = l * Math.sqrt(pivots[c]);
    }
  }
  return { kind: 'psd', rank, root, width, operations };
}

/** Swaps rows and columns k < p of the symmetric matrix held in w's lower triangle. */
function swapSymmetric(w: Float64Array, n: number, k: number, p: number, order: number[]): void {
  const at = (i: number, j: number): number => (i >= j ? i * n + j : j * n + i);
  for (let j = 0; j < n; j++) {
    if (j === k || j === p) continue;
    const x = w[at(k, j)];
    w[at(k, j)] = w[at(p, j)];
    w[at(p, j)] = x;
  }
  const d = w[k * n + k];
  w[k * n + k] = w[p * n + p];
  w[p * n + p] = d;
  [order[k], order[p]] = [order[p], order[k]];
}

/** Sample mean vector and covariance matrix (n − 1 denominator) of rows of observations. */
export function sampleMoments(rows: readonly (readonly number[])[]): {
  mean: number[];
  covariance: Matrix;
} {
  const n = rows.length;
  const m = rows[0].length;
  const mean = Array.from({ length: m }, (_, j) => rows.reduce((sum, row) => sum + row[j], 0) / n);
  const covariance: Matrix = Array.from({ length: m }, () => new Array<number>(m).fill(0));
  for (const row of rows) {
    for (let i = 0; i < m; i++) {
      for (let j = i; j < m; j++) covariance[i][j] += (row[i] - mean[i]) * (row[j] - mean[j]);
    }
  }
  for (let i = 0; i < m; i++) {
    for (let j = i; j < m; j++) {
      covariance[i][j] /= n - 1;
      covariance[j][i] = covariance[i][j];
    }
  }
  return { mean, covariance };
}
