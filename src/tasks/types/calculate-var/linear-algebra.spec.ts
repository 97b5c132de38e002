import { factorPsd, type Matrix, type PsdFactor } from './linear-algebra';

/** B Bᵀ from a factor, as a dense matrix. */
function product(f: PsdFactor, n: number): Matrix {
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => {
      let sum = 0;
      for (let c = 0; c < f.rank; c++) sum += f.root[i * f.rank + c] * f.root[j * f.rank + c];
      return sum;
    }),
  );
}

function largestDifference(a: Matrix, b: Matrix): number {
  return Math.max(...a.map((row, i) => Math.max(...row.map((x, j) => Math.abs(x - b[i][j])))));
}

/** A covariance of n assets with daily volatilities around 2 % and correlation `rho`. */
function equicorrelated(n: number, rho: number): Matrix {
  const vol = (i: number): number => 0.01 + (0.02 * i) / n;
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => vol(i) * vol(j) * (i === j ? 1 : rho)),
  );
}

describe(factorPsd.name, () => {
  const psd = (a: Matrix): PsdFactor => {
    const f = factorPsd(a);
    if (f.kind !== 'psd') throw new Error(`expected PSD, got residual ${f.residual}`);
    return f;
  };

  it('factors a 2×2 matrix exactly: B Bᵀ = A', () => {
    const a = [
      [2, 1],
      [1, 2],
    ];
    const f = psd(a);
    expect(f.rank).toBe(2);
    product(f, 2).forEach((row, i) => row.forEach((x, j) => expect(x).toBeCloseTo(a[i][j], 14)));
  });

  it('accepts a 200×200 all-ones matrix as PSD of rank 1, in n² operations rather than n³', () => {
    const n = 200;
    const ones = Array.from({ length: n }, () => new Array<number>(n).fill(1));
    const f = psd(ones);
    expect(f.rank).toBe(1);
    // One elimination step (n²/2 multiply-adds) and no more; the full factorisation is n³/6.
    expect(f.operations).toBeLessThanOrEqual((n * n) / 2);
    expect(largestDifference(product(f, n), ones)).toBeLessThan(1e-12);
  });

  it('factors a realistic full-rank 200×200 covariance in at most n³/6 operations', () => {
    const n = 200;
    const a = equicorrelated(n, 0.6);
    const f = psd(a);
    expect(f.rank).toBe(n);
    expect(f.operations).toBeLessThanOrEqual(n ** 3 / 6);
    expect(largestDifference(product(f, n), a)).toBeLessThan(1e-16);
  });

  it('accepts a singular PSD matrix (perfectly correlated assets) and rebuilds it', () => {
    const v = [0.01, 0.02, 0.03];
    const a = v.map((x) => v.map((y) => x * y));
    const f = psd(a);
    expect(f.rank).toBe(1);
    product(f, 3).forEach((row, i) => row.forEach((x, j) => expect(x).toBeCloseTo(a[i][j], 16)));
  });

  it.each<[string, Matrix]>([
    [
      'negative eigenvalue behind positive diagonals and 2×2 minors',
      [
        [1, 0.9, -0.9],
        [0.9, 1, 0.9],
        [-0.9, 0.9, 1],
      ],
    ],
    [
      'zero diagonal with a covariance',
      [
        [0, 1],
        [1, 0],
      ],
    ],
    ['a negative variance', [[-1e-4]]],
    [
      'a NaN',
      [
        [1, NaN],
        [NaN, 1],
      ],
    ],
    ['an infinity', [[Infinity]]],
  ])('rejects %s', (_name, a) => {
    expect(factorPsd(a).kind).toBe('not-psd');
  });
});
