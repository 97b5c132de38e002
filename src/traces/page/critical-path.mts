/**
 * The critical path of a waterfall: the bars the flow's end waited on. No DOM: the page marks
 * them, and a unit spec can read them.
 */

/** What the path needs of a bar: when it ran. */
export interface Span {
  start: number;
  end: number;
}

/**
 * The indexes of the bars on the critical path, from the bar that ended last back to the flow's
 * start: each step back goes to the bar that was running when the current one began (the
 * innermost, the latest to start, when several were) or, when none was, to the one that had
 * ended last before it. Traces have no explicit "waited on" edges: this reads them from time,
 * as Jaeger's critical path does, and a queue wait leads to the request that queued the task.
 */
export function criticalPath(spans: readonly Span[]): Set<number> {
  const path = new Set<number>();
  let current = -1;
  spans.forEach((span, i) => {
    const best = spans[current];
    if (!best || span.end >= best.end) current = i;
  });
  while (current >= 0 && !path.has(current)) {
    path.add(current);
    const at = spans[current];
    if (!at) break;
    let next = -1;
    let nextScore = -Infinity;
    spans.forEach((span, i) => {
      if (path.has(i) || span.start > at.start) return;
      // How late this bar still ran before the current one began.
      const score = Math.min(span.end, at.start);
      const chosen = spans[next];
      if (score > nextScore || (score === nextScore && chosen && span.start > chosen.start)) {
        next = i;
        nextScore = score;
      }
    });
    current = next;
  }
  return path;
}
