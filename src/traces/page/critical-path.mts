/**
 * The critical path of a waterfall: the bars the flow's end waited on. No DOM: the page marks
 * them, and a unit spec can read them.
 * @see docs/trace.md#the-waterfall
 */
import type { Trace } from '../trace';
import type { Row } from './waterfall-rows.mjs';

/** What the path needs of a bar: when it ran, and what the flow's structure says it waited on. */
export interface Span {
  start: number;
  end: number;
  /** Indexes of the bars it waited on, when the structure says (a retry its attempt before). */
  waitsOn?: readonly number[];
  /** It waited on nothing in the flow: a client's request begins it. The path stops there. */
  first?: boolean;
}

/**
 * The indexes of the bars on the critical path, from the bar that ended last back to the
 * flow's start. Each step back goes to the bar it waited on, of those its `waitsOn` names, the
 * one that ended last before it ended. A bar with none named steps back by time, as Jaeger's
 * critical path does: to the bar that was running when it began (the innermost, the latest to
 * start, when several were) or, when none was, to the one that had ended last before it.
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
    if (!at || at.first) break;
    const named = (at.waitsOn ?? []).filter((i) => {
      const span = spans[i];
      return span !== undefined && !path.has(i) && (span.start < at.end || span.start <= at.start);
    });
    const pool = named.length > 0 ? named : spans.map((_, i) => i);
    const until = named.length > 0 ? at.end : at.start;
    let next = -1;
    let nextScore = -Infinity;
    for (const i of pool) {
      const span = spans[i];
      if (!span || path.has(i) || (named.length === 0 && span.start > at.start)) continue;
      // How late this bar still ran before the current one began (or, when named, ended).
      const score = Math.min(span.end, until);
      const chosen = spans[next];
      if (score > nextScore || (score === nextScore && chosen && span.start > chosen.start)) {
        next = i;
        nextScore = score;
      }
    }
    current = next;
  }
  return path;
}

/**
 * The critical path of a flow's waterfall rows, by the flow's structure where it has one: an
 * attempt waited on the attempt before it (its back-off) or on its queue wait; a queue wait on
 * the task's children (a parent runs once they are done), else on the parent's attempt that
 * queued it (or the parent's request, when both were queued together), else on the API request
 * that queued it; the API on nginx, where the path stops (the client began it). Requests that queued no
 * task (status polls) are left out: nothing waits on them, yet they run while tasks do and would
 * draw the path through themselves. A flow with no task keeps its requests.
 */
export function flowCriticalPath(trace: Trace, rows: readonly Row[]): Set<number> {
  const submitted = new Set(
    trace.requests.filter((r) => r.tasks.length > 0).map((r) => r.request_id),
  );
  const kept = rows.flatMap((row, index) =>
    trace.tasks.length === 0 ||
    row.kind === 'queue' ||
    row.kind === 'attempt' ||
    row.ids.some((id) => submitted.has(id))
      ? [index]
      : [],
  );
  const at = new Map(kept.map((index, k) => [index, k]));
  const rowsOf = (id: string, kinds: Row['kind'][]): number[] =>
    kept.filter((i) => rows[i]?.ids[0] === id && kinds.includes(rows[i]?.kind ?? 'api'));
  const tasks = new Map(trace.tasks.map((t) => [t.task_id, t]));

  const waits = (index: number): number[] => {
    const row = rows[index];
    const id = row?.ids[0] ?? '';
    if (!row || row.kind === 'nginx') return [];
    if (row.kind === 'api') return rowsOf(id, ['nginx']);
    const own = rowsOf(id, ['queue', 'attempt']);
    const before = own.slice(0, own.indexOf(index)).at(-1);
    if (before !== undefined) return [before];
    const task = tasks.get(id);
    const children = (task?.children ?? []).flatMap((child) =>
      rowsOf(child, ['attempt']).slice(-1),
    );
    if (children.length > 0) return children;
    const parent = task?.parent_id ? tasks.get(task.parent_id) : undefined;
    if (parent) {
      const queuedBy = rowsOf(parent.task_id, ['attempt']).filter(
        (i) => (rows[i]?.start ?? Infinity) <= row.start,
      );
      if (queuedBy.length > 0) return queuedBy;
      // Queued with its parent (a flow of jobs): it waited on what its parent's request did.
      if (parent.request_id) return rowsOf(parent.request_id, ['api', 'nginx']).slice(-1);
    }
    return task?.request_id ? rowsOf(task.request_id, ['api', 'nginx']).slice(-1) : [];
  };
  const spans = kept.map((index): Span => {
    const row = rows[index] ?? { start: 0, end: 0 };
    const waitsOn = waits(index);
    return {
      start: row.start,
      end: row.end,
      first: rows[index]?.kind === 'nginx' || (rows[index]?.kind === 'api' && waitsOn.length === 0),
      waitsOn: waitsOn.flatMap((w) => {
        const k = at.get(w);
        return k === undefined ? [] : [k];
      }),
    };
  });
  return new Set([...criticalPath(spans)].flatMap((k) => (kept[k] === undefined ? [] : [kept[k]])));
}
