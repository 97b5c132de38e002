/**
 * The waterfall's time axis: where its ticks fall. Round steps (1, 2 or 5 times a power of ten
 * milliseconds) so that a reader can add them up in their head. No DOM: the page draws them.
 */

/** The round step that puts at most `maxTicks` steps over `spanMs` (1 ms at least). */
export function tickStep(spanMs: number, maxTicks: number): number {
  const raw = Math.max(1, spanMs / Math.max(1, maxTicks));
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const multiple of [1, 2, 5]) if (multiple * power >= raw) return multiple * power;
  return 10 * power;
}

/** The ticks from 0 to `spanMs`, in ms since the start, every {@link tickStep}. */
export function ticks(spanMs: number, maxTicks: number): number[] {
  const step = tickStep(spanMs, maxTicks);
  const out: number[] = [];
  for (let at = 0; at <= spanMs; at += step) out.push(at);
  return out;
}
