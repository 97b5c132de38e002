import { normalCdf, normalQuantile } from './normal-distribution';
import { SeededRandom } from './random';
import { computeVar } from './value-at-risk';
import type { VarRequest } from './var-request';

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
});
