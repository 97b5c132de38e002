// The submit load both benchmark scripts put on an API: echo tasks POSTed by autocannon.
import autocannon from 'autocannon';

/**
 * POSTs echo tasks to the API on `port` for `seconds`, after `warmupSeconds` not counted (V8
 * compiles the hot paths and the pools fill meanwhile), as fast as it answers or at `rate`
 * requests/s; requests/s, p99 latency (ms) and the requests answered.
 * @throws when any answer was not a 2xx, or any request failed: `who` names the side
 */
export async function submitLoad(
  who: string,
  port: number,
  options: { connections: number; seconds: number; warmupSeconds: number; rate?: number },
): Promise<{ rps: number; p99: number; total: number }> {
  const load = (duration: number) =>
    autocannon({
      url: `http://127.0.0.1:${port}/api/v1/tasks`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'echo', data: { message: 'bench' } }),
      connections: options.connections,
      duration,
      // A fixed rate (requests/s, all connections together) instead of as fast as it answers.
      ...(options.rate === undefined ? {} : { overallRate: options.rate }),
    });
  if (options.warmupSeconds > 0) await load(options.warmupSeconds);
  const result = await load(options.seconds);
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${who}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  }
  return { rps: result.requests.average, p99: result.latency.p99, total: result.requests.total };
}
