import { computeVar } from './value-at-risk';
import { checkVarRequest, minimumObservations, VarInputError } from './var-input';
import { varOperations, type VarRequest } from './var-request';

describe(checkVarRequest.name, () => {
  const single = (overrides: Partial<VarRequest>): VarRequest => ({
    method: 'parametric',
    positions: [{ asset: 'AAA', value: 1_000_000 }],
    covariance: [[0.02 * 0.02]],
    confidence: 0.99,
    horizon_days: 10,
    ...overrides,
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
