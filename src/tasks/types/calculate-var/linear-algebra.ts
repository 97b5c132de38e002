/** Small dense linear algebra for covariance matrices (tens of assets, not thousands). */

export type Matrix = number[][];

/** Largest |a_ij − a_ji|, relative to the largest |a_ij|. */
export function asymmetry(a: Matrix): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < a.length; j++) {
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

export interface Eigen {
  /** Eigenvalues, ascending. */
  values: number[];
  /** Column k of `vectors` is the unit eigenvector of `values[k]`. */
  vectors: Matrix;
}

/**
 * Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations: slow for big
 * matrices, but exact to machine precision and simple enough to trust.
 */
export function symmetricEigen(input: Matrix): Eigen {
  const n = input.length;
  const a = input.map((row) => [...row]);
  const v: Matrix = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)),
  );
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += a[i][j] * a[i][j];
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = a.map((row, i) => ({ value: row[i], i })).sort((x, y) => x.value - y.value);
  return {
    values: order.map((o) => o.value),
    vectors: v.map((row) => order.map((o) => row[o.i])),
  };
}

/**
 * A matrix B with B Bᵀ = A for a positive semi-definite A (B = Q √Λ); unlike Cholesky it
 * also works when A is singular, e.g. two perfectly correlated assets.
 */
export function psdSquareRoot(eigen: Eigen): Matrix {
  const roots = eigen.values.map((value) => Math.sqrt(Math.max(value, 0)));
  return eigen.vectors.map((row) => row.map((x, k) => x * roots[k]));
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
