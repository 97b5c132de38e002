// What METRICS costs a task submission, measured two ways (the bench's metrics section).
//
// End to end, at a fixed rate: the API's CPU per request with metrics on and scraped every
// second and with them off. Peak throughput on a 2-core machine shared with the load generator,
// Redis and Elasticsearch drifts by ±30% from run to run, far more than a cost of a few per cent;
// at a fixed rate the API is not the bottleneck, and its CPU per request is the cost itself.
// Both processes stay up, and short load windows alternate between them (A B B A ...), so that
// drift falls on both sides alike.
//
// Counted: what the metrics themselves do. The Metrics class's calls for one submission (the
// HTTP histogram and the submit counter) timed in this process, and the API's CPU for one
// scrape. Their sum over the request's CPU is a cost the machine's noise does not blur.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { cpuSeconds, processTree } from './processes.mts';
import { submitLoad } from './submit-load.mts';

/** An API process that is up, to load. */
export interface RunningApi {
  name: string;
  pid: number;
  port: number;
}

/** µs of CPU per request of each API, summed over its windows, and each window's own figure. */
export interface FixedRateCpu {
  usPerRequest: Record<string, number>;
  windows: Record<string, number[]>;
}

/** CPU seconds used so far by the process `pid` and its children, every thread. */
const treeCpu = (pid: number): number =>
  processTree(pid).reduce((sum, p) => sum + cpuSeconds(p), 0);

/**
 * Loads each API in turn at `rate` requests/s for `seconds`, `windows` times each, the order
 * alternating (A B, B A, A B, ...); each API's CPU per request over all its windows.
 */
export async function fixedRateCpu(
  apis: RunningApi[],
  options: { rate: number; seconds: number; windows: number; connections: number },
  progress: (line: string) => void,
): Promise<FixedRateCpu> {
  const cpu: Record<string, number> = {};
  const requests: Record<string, number> = {};
  const windows: Record<string, number[]> = {};
  for (let w = 0; w < options.windows; w++) {
    const order = w % 2 === 0 ? apis : [...apis].reverse();
    for (const api of order) {
      const before = treeCpu(api.pid);
      const { total } = await submitLoad(api.name, api.port, {
        connections: options.connections,
        seconds: options.seconds,
        warmupSeconds: 0,
        rate: options.rate,
      });
      const used = treeCpu(api.pid) - before;
      cpu[api.name] = (cpu[api.name] ?? 0) + used;
      requests[api.name] = (requests[api.name] ?? 0) + total;
      (windows[api.name] ??= []).push((used * 1e6) / total);
    }
    progress(
      `window ${w + 1} of ${options.windows}: ${apis.map((a) => `${a.name} ${windows[a.name].at(-1)?.toFixed(0)} µs`).join(', ')}`,
    );
  }
  const usPerRequest = Object.fromEntries(
    apis.map((a) => [a.name, (cpu[a.name] * 1e6) / requests[a.name]]),
  );
  return { usPerRequest, windows };
}

/** ms of the API's CPU (all its threads) per GET /metrics, over `scrapes` scrapes in a row. */
export async function scrapeCpuMs(api: RunningApi, scrapes: number): Promise<number> {
  const before = treeCpu(api.pid);
  for (let i = 0; i < scrapes; i++) {
    const response = await fetch(`http://127.0.0.1:${api.port}/metrics`);
    if (!response.ok) throw new Error(`${api.name}: /metrics answered ${response.status}`);
    await response.text();
  }
  return ((treeCpu(api.pid) - before) * 1e3) / scrapes;
}

interface MetricsModule {
  Metrics: new (
    enabled: boolean,
    shipping: () => { enabled: false },
  ) => {
    httpRequest(method: string, route: string, status: number, seconds: number): void;
    taskSubmitted(type: string, queue: string): void;
    registry: { clear(): void };
  };
}

/**
 * µs of CPU for the metrics' part of one submission: an HTTP observation and a submit count,
 * through the built Metrics class (dist/), with the label sets an API sees (two routes, a few
 * statuses, two task types), after a warm-up.
 */
export function metricsCallsUs(root: string, calls: number): number {
  const require = createRequire(import.meta.url);
  const { Metrics } = require(join(root, 'dist', 'metrics', 'metrics.js')) as MetricsModule;
  const metrics = new Metrics(true, () => ({ enabled: false }));
  const routes = ['/api/v1/tasks', '/api/v1/tasks/:id'];
  const statuses = [202, 202, 202, 200, 429];
  const types = ['echo', 'portfolio_var'];
  const run = (n: number): void => {
    for (let i = 0; i < n; i++) {
      // Durations all differ, as real ones do (a handful of values would hit caches real
      // traffic misses).
      metrics.httpRequest('POST', routes[i & 1], statuses[i % 5], 0.001 + Math.random() * 0.01);
      metrics.taskSubmitted(types[i & 1], 'medium');
    }
  };
  run(calls / 10);
  const before = process.cpuUsage();
  run(calls);
  const used = process.cpuUsage(before);
  metrics.registry.clear();
  return (used.user + used.system) / calls;
}
