/**
 * The rows of the trace page's waterfall, computed from a trace: nginx, the API, the queue
 * wait and each attempt, with their start, end, depth and lines. No DOM: the page script draws
 * them, and a unit spec can read them.
 */
import { EVENT_ACTION } from '../../logging/event-actions.mjs';
import type { AttemptOutcome, TaskSummary, Trace, TraceLine } from '../trace';

export interface Row {
  kind: 'nginx' | 'api' | 'queue' | 'attempt';
  outcome?: AttemptOutcome;
  depth: number;
  label: string;
  ids: string[];
  start: number;
  end: number;
  lines: TraceLine[];
}

/** When a line was written, in ms since the epoch. */
export const time = (line: TraceLine): number => Date.parse(line['@timestamp']);

export function bars(trace: Trace): Row[] {
  const rows: Row[] = [];
  const lines = trace.lines;
  for (const request of trace.requests) {
    const own = lines.filter(
      (l) => l.request_id === request.request_id && l['event.action'] === EVENT_ACTION.httpRequest,
    );
    const nginx = own.find((l) => l['service.name'] === 'nginx');
    const api = own.find((l) => l['service.name'] === 'threadline-api');
    const label = `${request.method || '?'} ${request.path || '?'} ${request.status || ''}`;
    if (nginx && request.nginx_ms !== null) {
      rows.push({
        kind: 'nginx',
        depth: 0,
        label: 'nginx ' + label,
        ids: [request.request_id],
        start: time(nginx) - request.nginx_ms,
        end: time(nginx),
        lines: [nginx],
      });
    }
    if (api) {
      rows.push({
        kind: 'api',
        depth: 0,
        label: 'API ' + label,
        ids: [request.request_id],
        start: time(api) - (request.api_ms ?? 0),
        end: time(api),
        // The request's own API lines: those written before any task existed, and its end.
        lines: lines.filter(
          (l) =>
            (l.request_id === request.request_id &&
              l['service.name'] === 'threadline-api' &&
              !l.task_id) ||
            l === api,
        ),
      });
    }
  }
  const byId = new Map(trace.tasks.map((t) => [t.task_id, t]));
  const addTask = (task: TaskSummary, depth: number): void => {
    const own = lines.filter(
      (l) => l.task_id === task.task_id && l['service.name'] === 'threadline-worker',
    );
    const queued = lines.find(
      (l) => l.task_id === task.task_id && l['event.action'] === EVENT_ACTION.taskQueued,
    );
    const type = task.type || 'task';
    const first = task.attempts[0];
    if (first) {
      const start = queued
        ? time(queued)
        : Date.parse(first.started_at) - (first.queue_wait_ms ?? 0);
      rows.push({
        kind: 'queue',
        depth,
        label: `queue ${task.queue || '?'} · ${type}`,
        ids: [task.task_id],
        start,
        end: Date.parse(first.started_at),
        lines: queued ? [queued] : [],
      });
    } else if (queued) {
      rows.push({
        kind: 'queue',
        depth,
        label: `queued on ${task.queue || '?'} · ${type}`,
        ids: [task.task_id],
        start: time(queued),
        end: Date.now(),
        lines: [queued],
      });
    }
    task.attempts.forEach((attempt, i) => {
      const next = task.attempts[i + 1];
      const started = Date.parse(attempt.started_at);
      rows.push({
        kind: 'attempt',
        outcome: attempt.outcome,
        depth,
        label: `${type} attempt ${attempt.attempt} · ${attempt.outcome}`,
        ids: [task.task_id],
        start: started,
        end: attempt.finished_at ? Date.parse(attempt.finished_at) : Date.now(),
        lines: own.filter(
          (l) => time(l) >= started && (!next || time(l) < Date.parse(next.started_at)),
        ),
      });
    });
    for (const child of task.children) {
      const childTask = byId.get(child);
      if (childTask) addTask(childTask, depth + 1);
    }
  };
  for (const task of trace.tasks)
    if (!task.parent_id || !byId.has(task.parent_id)) addTask(task, 0);
  return rows;
}
