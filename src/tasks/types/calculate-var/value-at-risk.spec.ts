import { normalCdf, normalQuantile } from './normal-distribution';
import { factorPsd, type Matrix, type PsdFactor } from './linear-algebra';
import { SeededRandom } from './random';
import {
  checkVarRequest,
  computeVar,
  minimumObservations,
  VarInputError,
  varOperations,
  type VarRequest,
} from './value-at-risk';

const Z95 = 1.6448536269514722;
const Z99 = 2.3263478740408408;

describe('normal distribution', () => {
  it.each([
    [0.95, Z95],
    [0.99, Z99],
    [0.975, 1.959963984540054],
    [0.999, 3.090232306167813],
    [0.5, 0],
    [0.05, -Z95],
  ])('quantile(%p) = %p', (p, z) => {
    expect(normalQuantile(p)).toBeCloseTo(z, 10);
  });

  it('CDF inverts the quantile', () => {
    for (const p of [0.001, 0.1, 0.37, 0.9, 0.9999]) {
      expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 12);
    }
  });
});

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

describe(SeededRandom.name, () => {
  it('repeats itself for one seed and differs across seeds', () => {
    const draw = (seed: number): number[] => {
      const r = new SeededRandom(seed);
      return Array.from({ length: 5 }, () => r.normal());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('draws standard normals (mean 0, variance 1 within sampling error)', () => {
    const r = new SeededRandom(123);
    const n = 200_000;
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      sum += x;
      squares += x * x;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.01);
    expect(Math.abs(squares / n - 1)).toBeLessThan(0.01);
  });
});

describe(computeVar.name, () => {
  const single = (overrides: Partial<VarRequest>): VarRequest => ({
    method: 'parametric',
    positions: [{ asset: 'AAA', value: 1_000_000 }],
    covariance: [[0.02 * 0.02]],
    confidence: 0.99,
    horizon_days: 10,
    ...overrides,
  });

  it('parametric, one asset: VaR = z·σ·√h·V (closed form)', async () => {
    const result = await computeVar(single({}));
    const expected = Z99 * 0.02 * Math.sqrt(10) * 1_000_000;
    expect(result.var).toBeCloseTo(expected, 4);
    // ES of a normal: σ√h·V·φ(z)/(1−c)
    const phi = Math.exp(-(Z99 * Z99) / 2) / Math.sqrt(2 * Math.PI);
    expect(result.expected_shortfall).toBeCloseTo(
      (0.02 * Math.sqrt(10) * 1_000_000 * phi) / 0.01,
      4,
    );
    expect(result).toMatchObject({
      method: 'parametric',
      portfolio_value: 1_000_000,
      horizon_days: 10,
      observations: null,
    });
  });

  it('parametric, two assets worked by hand: σ_p² = 100²·.0004 + 2·100·200·.0003 + 200²·.0009 = 52', async () => {
    const result = await computeVar({
      method: 'parametric',
      positions: [
        { asset: 'A', value: 100 },
        { asset: 'B', value: 200 },
      ],
      covariance: [
        [0.0004, 0.0003],
        [0.0003, 0.0009],
      ],
      confidence: 0.95,
      horizon_days: 1,
    });
    expect(result.var).toBeCloseTo(Z95 * Math.sqrt(52), 8);
    expect(result.var).toBeCloseTo(11.8612, 4);
  });

  it('parametric subtracts the expected gain over the horizon', async () => {
    const result = await computeVar(single({ mean: [0.001], horizon_days: 1, confidence: 0.95 }));
    expect(result.var).toBeCloseTo(Z95 * 0.02 * 1_000_000 - 0.001 * 1_000_000, 4);
  });

  it('historical: the k-th worst loss of the known sample, k = ⌈n(1−c)⌉, and the mean of the k worst', async () => {
    // Returns −0.050 … +0.049 in a shuffled order; on 1,000 the five worst losses are 50, 49, 48, 47, 46.
    const returns = Array.from({ length: 100 }, (_, t) => (t - 50) / 1000);
    const random = new SeededRandom(3);
    const shuffled = [...returns].sort(() => random.uniform() - 0.5);
    const result = await computeVar({
      method: 'historical',
      positions: [{ asset: 'X', value: 1000 }],
      returns: { X: shuffled },
      confidence: 0.95,
      horizon_days: 1,
    });
    expect(result.var).toBeCloseTo(46, 10);
    expect(result.expected_shortfall).toBeCloseTo(48, 10);
    expect(result.observations).toBe(100);
  });

  it('historical scales a one-day loss to the horizon by √h', async () => {
    const returns = Array.from({ length: 100 }, (_, t) => (t - 50) / 1000);
    const request: VarRequest = {
      method: 'historical',
      positions: [{ asset: 'X', value: 1000 }],
      returns: { X: returns },
      confidence: 0.95,
      horizon_days: 4,
    };
    expect((await computeVar(request)).var).toBeCloseTo(92, 10);
  });

  it('monte carlo converges on the parametric closed form and is reproducible by seed', async () => {
    const request = single({
      method: 'monte_carlo',
      simulations: 200_000,
      seed: 42,
      confidence: 0.95,
      horizon_days: 1,
    });
    const first = await computeVar(request);
    const again = await computeVar(request);
    const closed = Z95 * 0.02 * 1_000_000;
    expect(Math.abs(first.var - closed) / closed).toBeLessThan(0.02);
    expect(again).toEqual(first);
    const other = await computeVar({ ...request, seed: 43 });
    expect(other.var).not.toBe(first.var);
    expect(first).toMatchObject({ simulations: 200_000, seed: 42 });
  });

  it('monte carlo handles a singular (perfectly correlated) covariance', async () => {
    const result = await computeVar({
      method: 'monte_carlo',
      positions: [
        { asset: 'A', value: 100 },
        { asset: 'B', value: 100 },
      ],
      covariance: [
        [0.0001, 0.0001],
        [0.0001, 0.0001],
      ],
      confidence: 0.95,
      horizon_days: 1,
      simulations: 100_000,
    });
    // Equivalent to one asset of 200 with σ = 0.01.
    expect(Math.abs(result.var - Z95 * 0.01 * 200) / (Z95 * 2)).toBeLessThan(0.03);
  });

  it('reports progress between Monte Carlo batches', async () => {
    const seen: number[] = [];
    await computeVar(single({ method: 'monte_carlo', simulations: 1000 }), (f) => {
      seen.push(f);
      return Promise.resolve();
    });
    expect(seen.length).toBeGreaterThanOrEqual(9);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  describe('rejects what cannot be computed, naming the field', () => {
    const cases: [string, Partial<VarRequest>, string, RegExp][] = [
      [
        'non-PSD covariance',
        {
          covariance: [
            [0.0004, 0.0009],
            [0.0009, 0.0004],
          ],
          positions: [
            { asset: 'A', value: 1 },
            { asset: 'B', value: 1 },
          ],
        },
        '/covariance',
        /not positive semi-definite/,
      ],
      [
        'asymmetric covariance',
        {
          covariance: [
            [1, 0.5],
            [0.2, 1],
          ],
          positions: [
            { asset: 'A', value: 1 },
            { asset: 'B', value: 1 },
          ],
        },
        '/covariance',
        /not symmetric/,
      ],
      [
        'covariance of the wrong size',
        {
          covariance: [
            [1, 0],
            [0, 1],
          ],
        },
        '/covariance',
        /must be 1×1/,
      ],
      ['mean of the wrong length', { mean: [0, 0] }, '/mean', /must have 1 values/],
      [
        'duplicate assets',
        {
          positions: [
            { asset: 'A', value: 1 },
            { asset: 'A', value: 2 },
          ],
          covariance: [
            [1, 0],
            [0, 1],
          ],
        },
        '/positions',
        /appears twice/,
      ],
      [
        'historical without returns',
        { method: 'historical', covariance: undefined },
        '/returns',
        /needs "returns"/,
      ],
      [
        'too few observations',
        { method: 'historical', covariance: undefined, returns: { AAA: [0.01, -0.01, 0.02] } },
        '/returns',
        /too few observations: 3 given, confidence 0.99 needs at least 100/,
      ],
      [
        'series of unequal length',
        {
          method: 'historical',
          covariance: undefined,
          positions: [
            { asset: 'A', value: 1 },
            { asset: 'B', value: 1 },
          ],
          returns: { A: new Array<number>(100).fill(0), B: new Array<number>(99).fill(0) },
        },
        '/returns',
        /same length/,
      ],
      [
        'returns missing an asset',
        {
          method: 'historical',
          covariance: undefined,
          returns: { BBB: new Array<number>(100).fill(0) },
        },
        '/returns',
        /lack a series for "AAA"/,
      ],
      [
        'returns together with covariance',
        { returns: { AAA: new Array<number>(100).fill(0.01) } },
        '/covariance',
        /"returns" and "covariance" conflict/,
      ],
      [
        'returns together with mean',
        { covariance: undefined, mean: [0.001], returns: { AAA: new Array<number>(100).fill(0) } },
        '/mean',
        /"returns" and "mean" conflict/,
      ],
      ['a NaN covariance', { covariance: [[NaN]] }, '/covariance/0/0', /finite number/],
      [
        'a position that would overflow',
        { positions: [{ asset: 'AAA', value: 1e300 }] },
        '/positions/0/value',
        /magnitude at most 1e\+15/,
      ],
      [
        'a covariance entry that would overflow',
        { covariance: [[1e200]] },
        '/covariance/0/0',
        /magnitude at most 1e\+6/,
      ],
      [
        'a return that would overflow',
        {
          method: 'historical',
          covariance: undefined,
          returns: { AAA: [...new Array<number>(99).fill(0), -1e300] },
        },
        '/returns/AAA/99',
        /magnitude at most 1e\+3/,
      ],
    ];
    it.each(cases)('%s', async (_name, overrides, pointer, message) => {
      const error: unknown = await computeVar(single(overrides)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VarInputError);
      expect(error).toMatchObject({ pointer, message: expect.stringMatching(message) as unknown });
    });
  });

  it('checks the largest allowed covariance, all ones, to completion (rank 1, n² work)', () => {
    const n = 200;
    const request: VarRequest = {
      method: 'monte_carlo',
      positions: Array.from({ length: n }, (_, i) => ({ asset: `A${i}`, value: 1000 })),
      covariance: Array.from({ length: n }, () => new Array<number>(n).fill(1)),
      confidence: 0.99,
      horizon_days: 1,
    };
    expect(checkVarRequest(request)).toMatchObject({ kind: 'psd', rank: 1 });
  });

  it('keeps every result finite at the largest magnitudes allowed', async () => {
    const n = 200;
    const result = await computeVar({
      method: 'parametric',
      positions: Array.from({ length: n }, (_, i) => ({ asset: `A${i}`, value: 1e15 })),
      covariance: Array.from({ length: n }, () => new Array<number>(n).fill(1e6)),
      mean: new Array<number>(n).fill(-1e3),
      confidence: 0.999,
      horizon_days: 250,
    });
    expect(Number.isFinite(result.var)).toBe(true);
    expect(Number.isFinite(result.expected_shortfall)).toBe(true);
  });

  it('declares its work: assets³ + simulations × assets², observations × assets for historical', () => {
    const two = [
      { asset: 'A', value: 1 },
      { asset: 'B', value: 1 },
    ];
    const covariance = [
      [1, 0],
      [0, 1],
    ];
    const base = { positions: two, confidence: 0.99, horizon_days: 1 };
    expect(varOperations({ ...base, method: 'parametric', covariance })).toBe(8);
    expect(varOperations({ ...base, method: 'monte_carlo', covariance, simulations: 1000 })).toBe(
      8 + 1000 * 4,
    );
    expect(varOperations({ ...base, method: 'monte_carlo', covariance })).toBe(8 + 10_000 * 4);
    const returns = { A: new Array<number>(300).fill(0), B: new Array<number>(300).fill(0) };
    expect(varOperations({ ...base, method: 'historical', returns })).toBe(300 * 2);
    expect(varOperations({ ...base, method: 'parametric', returns })).toBe(8 + 300 * 4);
  });

  it('needs more history for higher confidence', () => {
    expect(minimumObservations(0.95)).toBe(30);
    expect(minimumObservations(0.99)).toBe(100);
    expect(minimumObservations(0.999)).toBe(1000);
  });
});
