import { Counter, Histogram, Registry } from 'prom-client';
import { CounterFamily, HistogramFamily } from './series';

/** The samples of a text exposition, as `name{labels sorted}` → value. */
function samples(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels = (match[2] ?? '')
      .split(/,(?=\w+=")/)
      .filter(Boolean)
      .sort()
      .join(',');
    found.set(`${match[1]}{${labels}}`, Number(match[3]));
  }
  return found;
}

describe('the hot-path series', () => {
  it('write what prom-client writes for the same histogram observations', async () => {
    const bounds = [0.001, 0.01, 0.1, 1];
    const registry = new Registry();
    const reference = new Histogram({
      name: 'h',
      help: 'h',
      labelNames: ['route', 'status_code'],
      buckets: bounds,
      registers: [registry],
    });
    const ours = new HistogramFamily('h', 'h', ['route', 'status_code'], bounds);
    const values = [0.0005, 0.001, 0.002, 0.05, 0.5, 1, 7, 0.01];
    for (const [i, value] of values.entries()) {
      const labels = { route: i % 2 ? '/a/:id' : '/b', status_code: i % 3 ? 200 : 404 };
      reference.observe(labels, value);
      ours.of(labels).observe(value);
    }
    expect(samples(ours.render())).toEqual(samples(await registry.metrics()));
  });

  it('write what prom-client writes for the same counts', async () => {
    const registry = new Registry();
    const reference = new Counter({
      name: 'c_total',
      help: 'c',
      labelNames: ['type', 'queue'],
      registers: [registry],
    });
    const ours = new CounterFamily('c_total', 'c', ['type', 'queue']);
    for (const [type, queue, by] of [
      ['echo', 'high', 1],
      ['echo', 'high', 2],
      ['calculate_var', 'low', 1],
    ] as const) {
      reference.inc({ type, queue }, by);
      ours.of({ type, queue }).inc(by);
    }
    expect(samples(ours.render())).toEqual(samples(await registry.metrics()));
  });

  it('escape label values and help as the text format asks', () => {
    const family = new CounterFamily('c_total', 'two\nlines \\ here', ['route']);
    family.of({ route: 'a"b\\c\nd' }).inc();
    expect(family.render()).toBe(
      '# HELP c_total two\\nlines \\\\ here\n# TYPE c_total counter\nc_total{route="a\\"b\\\\c\\nd"} 1\n',
    );
  });

  it('keep one series per label set', () => {
    const family = new CounterFamily('c_total', 'c', ['type', 'queue']);
    expect(family.of({ type: 'a', queue: 'b' })).toBe(family.of({ type: 'a', queue: 'b' }));
    expect(family.of({ type: 'a b', queue: 'c' })).not.toBe(family.of({ type: 'a', queue: 'b c' }));
  });
});
