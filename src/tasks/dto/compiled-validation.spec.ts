import { compiledValidate } from '../../validation/compiled-rules';
import { validateFully, validatePlain } from '../../validation/validate-plain';
import { BatchVarData } from '../types/batch-var/batch-var.data';
import { CalculateVarData } from '../types/calculate-var/calculate-var.data';
import { EchoData } from '../types/echo/echo.data';
import { SubmitTaskDto } from './submit-task.dto';

// The hot DTOs through the compiled path and through class-transformer + class-validator, for
// many generated bodies, valid and not: the same verdict, value and problems (src/validation).

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A small seeded generator (mulberry32): a failure names its seed and replays. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(readonly next: () => number) {}
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  list<T>(min: number, max: number, item: () => T): T[] {
    return Array.from({ length: this.int(min, max) }, item);
  }
}

/** Keys a mutation adds: other DTOs' fields, unknown ones, and those class-transformer drops. */
const KEYS = [
  'type',
  'data',
  'queue',
  'priority',
  'message',
  'delay_ms',
  'fail',
  'kind',
  'attempts',
  'method',
  'positions',
  'asset',
  'value',
  'returns',
  'mean',
  'covariance',
  'confidence',
  'horizon_days',
  'simulations',
  'seed',
  'portfolios',
  'extra',
  'constructor',
  'toString',
  '__proto__',
  'hasOwnProperty',
  'then',
];

/** Keys of a valid body's free-form values (echo's `message`): none that class-transformer drops. */
const PLAIN_KEYS = KEYS.filter((key) => !(key in Object.prototype));

const NUMBERS = [
  0, 1, -1, 0.5, 0.89, 0.9, 0.999, 1.5, 100, 101, 250, 251, 999, 1000, 600_001, 1e6, 4294967296,
  1e300,
];

function anyJson(g: Gen, depth = 0, keys: readonly string[] = KEYS): Json {
  switch (g.int(0, depth > 2 ? 3 : 5)) {
    case 0:
      return null;
    case 1:
      return g.chance(0.5);
    case 2:
      return g.chance(0.5) ? g.pick(NUMBERS) : g.int(-5, 5) * g.next();
    case 3:
      return g.pick(['', 'a', 'echo', 'high', 'parametric', 'x'.repeat(g.int(60, 70))]);
    case 4:
      return g.list(0, 3, () => anyJson(g, depth + 1, keys));
    default: {
      const object: { [key: string]: Json } = {};
      for (const key of g.list(0, 3, () => g.pick(keys))) {
        setOwn(object, key, anyJson(g, depth + 1, keys));
      }
      return object;
    }
  }
}

/** Sets a key as JSON.parse does, `__proto__` included. */
function setOwn(object: object, key: string, value: Json): void {
  Object.defineProperty(object, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

const finite = (g: Gen): number => g.int(-1000, 1000) * g.next();

function echoData(g: Gen): Json {
  const data: { [key: string]: Json } = {};
  if (g.chance(0.7)) data.message = anyJson(g, 0, PLAIN_KEYS);
  if (g.chance(0.5)) data.delay_ms = g.int(0, 600_000);
  if (g.chance(0.3)) {
    data.fail = { kind: g.pick(['retryable', 'fatal', 'crash']) };
    if (g.chance(0.5)) data.fail.attempts = g.int(1, 100);
  }
  return data;
}

function calculateVarData(g: Gen): Json {
  const assets = g.list(1, 4, () => g.pick(['AAPL', 'MSFT', 'X', 'a'.repeat(64)]));
  const data: { [key: string]: Json } = {
    method: g.pick(['parametric', 'historical', 'monte_carlo']),
    positions: assets.map((asset) => ({ asset, value: finite(g) })),
  };
  if (g.chance(0.5)) {
    data.returns = Object.fromEntries(assets.map((a) => [a, g.list(0, 5, () => finite(g))]));
  }
  if (g.chance(0.5)) data.mean = assets.map(() => finite(g) / 1000);
  if (g.chance(0.6)) data.covariance = assets.map(() => assets.map(() => g.next() / 1000));
  if (g.chance(0.5)) data.confidence = g.pick([0.9, 0.95, 0.99, 0.999]);
  if (g.chance(0.5)) data.horizon_days = g.int(1, 250);
  if (g.chance(0.3)) data.simulations = g.int(1000, 1_000_000);
  if (g.chance(0.3)) data.seed = g.int(0, 4294967295);
  return data;
}

function batchVarData(g: Gen): Json {
  return { portfolios: g.list(1, 3, () => calculateVarData(g)) };
}

function submitBody(g: Gen): Json {
  const type = g.pick(['echo', 'calculate_var', 'batch_var'] as const);
  const body: { [key: string]: Json } = {
    type,
    data: { echo: echoData, calculate_var: calculateVarData, batch_var: batchVarData }[type](g),
  };
  if (g.chance(0.5)) body.queue = g.pick(['high', 'medium', 'low']);
  if (g.chance(0.5)) body.priority = g.pick([1, 100, g.int(1, 100)]);
  return body;
}

/** One to three changes at random places: a value replaced, a key removed or added, a limit crossed. */
function mutate(g: Gen, body: Json): Json {
  for (let i = g.int(1, 3); i > 0; i--) {
    const places: [Json[] | { [key: string]: Json }, string][] = [];
    const walk = (node: Json): void => {
      if (node === null || typeof node !== 'object') return;
      const keys = Object.keys(node);
      if (keys.length === 0) places.push([node, '0']);
      for (const key of keys) {
        places.push([node, key]);
        walk((node as Record<string, Json>)[key]);
      }
    };
    walk(body);
    if (places.length === 0) return body;
    const of = (type: string): typeof places =>
      places.filter(([node, key]) => {
        const value = (node as Record<string, Json>)[key];
        return Array.isArray(value) ? type === 'array' : typeof value === type;
      });
    const change = g.int(0, 8);
    const targeted =
      {
        3: of('number'),
        5: of(g.pick(['number', 'string', 'array', 'object'])),
        6: of('string'),
        7: of('array'),
      }[change] ?? [];
    const [node, key] = g.pick(targeted.length > 0 ? targeted : places);
    const value = (node as Record<string, Json>)[key];
    switch (change) {
      case 0:
        setOwn(node, key, anyJson(g));
        break;
      case 1:
        if (Array.isArray(node)) node.splice(Number(key), 1);
        else delete node[key];
        break;
      case 2:
        if (Array.isArray(node)) node.push(anyJson(g));
        else setOwn(node, g.pick(KEYS), anyJson(g));
        break;
      case 3:
        setOwn(
          node,
          key,
          typeof value === 'number'
            ? g.pick([value + 1, value - 1, value + 0.5, value * 10, -value, ...NUMBERS])
            : g.pick(NUMBERS),
        );
        break;
      case 5:
        // Another JSON type with a likely shape: a number as text, an array's first item, …
        setOwn(
          node,
          key,
          typeof value === 'number'
            ? String(value)
            : typeof value === 'string'
              ? value.length
              : Array.isArray(value)
                ? (value[0] ?? null)
                : value && typeof value === 'object'
                  ? [value]
                  : {},
        );
        break;
      case 6:
        setOwn(
          node,
          key,
          g.pick(['', 'a'.repeat(64), 'a'.repeat(65), `${JSON.stringify(value)}x`]),
        );
        break;
      case 7:
        setOwn(
          node,
          key,
          Array.isArray(value) && value.length > 0
            ? Array.from(
                { length: g.pick([100, 101, 200, 201]) },
                (_, n) => value[n % value.length],
              )
            : [],
        );
        break;
      default:
        setOwn(node, key, g.pick([null, [], {}, '1', true, '', 'medium', 1]));
    }
  }
  return body;
}

/** What a call gave, or the error it threw (class-transformer throws on a few bodies). */
function outcome<T>(call: () => T): T | { threw: string } {
  try {
    return call();
  } catch (error) {
    return { threw: String(error) };
  }
}

/** The body as the API receives it: parsed from text. */
const parsed = (body: Json): unknown => JSON.parse(JSON.stringify(body));

const CASES: { cls: new () => object; base: string; valid: (g: Gen) => Json }[] = [
  { cls: SubmitTaskDto, base: '', valid: submitBody },
  { cls: EchoData, base: '/data', valid: echoData },
  { cls: CalculateVarData, base: '/data', valid: calculateVarData },
  { cls: BatchVarData, base: '/data', valid: batchVarData },
];

const RUNS = 400;

describe(`${compiledValidate.name} on the submit DTOs`, () => {
  describe.each(CASES)('$cls.name', ({ cls, base, valid }) => {
    it('accepts what the full path accepts, as the same instance, and nothing else', () => {
      let compiled = 0;
      let rejected = 0;
      for (let seed = 1; seed <= RUNS; seed++) {
        const g = new Gen(random(seed));
        const body = parsed(seed % 4 === 0 ? valid(g) : mutate(g, valid(g)));
        const full = outcome(() => validateFully(cls, body, base));
        const fast = compiledValidate(cls, body);
        const label = `seed ${seed}: ${JSON.stringify(body)}`;
        const value = 'threw' in full ? full : full.value;
        if (fast !== undefined) {
          compiled++;
          expect({ label, value }).toStrictEqual({ label, value: fast });
          expect({ label, json: JSON.stringify(fast) }).toEqual({
            label,
            json: JSON.stringify(value),
          });
        }
        if (!('value' in full) || !full.value) rejected++;
        expect({ label, verdict: outcome(() => validatePlain(cls, body, base)) }).toStrictEqual({
          label,
          verdict: full,
        });
      }
      // Not a vacuous pass: both verdicts occur, and most valid bodies took the compiled path.
      expect(rejected).toBeGreaterThan(RUNS / 5);
      expect(compiled).toBeGreaterThan(RUNS / 4);
    });

    it('takes the compiled path for every valid body', () => {
      for (let seed = 1; seed <= RUNS / 4; seed++) {
        const body = parsed(valid(new Gen(random(seed))));
        expect({ seed, accepted: compiledValidate(cls, body) !== undefined }).toEqual({
          seed,
          accepted: true,
        });
      }
    });
  });
});
