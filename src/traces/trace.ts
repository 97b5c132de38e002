import { EVENT_ACTION } from '../logging/event-actions.mjs';
import type { TraceIdField } from '../context/flow-fields';

/** The ID fields a trace can start from: those the flow's field table marks `traceId`. */
export { TRACE_ID_FIELDS, type TraceIdField } from '../context/flow-fields';

/** One log line as stored in Elasticsearch (ECS, dotted keys as the processes write them). */
export interface TraceLine {
  '@timestamp': string;
  'service.name'?: string;
  'log.level'?: string;
  message?: string;
  request_id?: string | null;
  correlation_id?: string | null;
  task_id?: string | null;
  'trace.id'?: string;
  'event.action'?: string;
  'event.duration'?: number;
  'event.sequence'?: number;
  'task.type'?: string;
  'task.queue'?: string;
  'task.attempt'?: number;
  'task.parent_id'?: string;
  'task.queue_wait_ms'?: number;
  'task.run_ms'?: number;
  'http.request.method'?: string;
  'url.path'?: string;
  'http.response.status_code'?: number;
  'nginx.request_time_s'?: number;
  [field: string]: unknown;
}

export type AttemptOutcome = 'running' | 'completed' | 'retried' | 'failed';

export interface AttemptSummary {
  attempt: number;
  started_at: string;
  finished_at: string | null;
  queue_wait_ms: number | null;
  run_ms: number | null;
  outcome: AttemptOutcome;
}

export interface TaskSummary {
  task_id: string;
  type: string | null;
  queue: string | null;
  parent_id: string | null;
  /** The request that submitted it. */
  request_id: string | null;
  children: string[];
  attempts: AttemptSummary[];
  retries: number;
  status: 'queued' | 'running' | 'completed' | 'failed';
}

export interface RequestSummary {
  request_id: string;
  at: string;
  method: string | null;
  path: string | null;
  status: number | null;
  /** nginx's request time, when nginx was in front. */
  nginx_ms: number | null;
  /** The API's own handling time. */
  api_ms: number | null;
  tasks: string[];
}

export interface Trace {
  id: string;
  /** Which ID fields held the ID asked for. */
  matched: TraceIdField[];
  correlation_ids: string[];
  requests: RequestSummary[];
  tasks: TaskSummary[];
  summary: {
    first_at: string;
    last_at: string;
    total_ms: number;
    lines: number;
    services: Record<string, number>;
    retries: number;
    status: 'queued' | 'running' | 'completed' | 'failed' | 'no tasks';
  };
  lines: TraceLine[];
  /**
   * True when the flow has more lines than `lines` holds (the answer's limit cut it, or the ID
   * leads to more flows than a trace follows): `lines` are then its first ones in time order.
   * @see docs/trace.md#a-trace-has-a-bound
   */
  truncated: boolean;
  /** What reading it cost Elasticsearch: the sum of the searches' `took`, and their number. */
  search?: { took_ms: number; requests: number };
}

const ms = (from: string, to: string): number => Date.parse(to) - Date.parse(from);

/**
 * The flow's structure from its lines (already in time order): the requests and what they
 * submitted, each task's attempts with queue wait and run time, child tasks under parents.
 * `truncated` says that the flow has more lines than these.
 */
export function buildTrace(
  id: string,
  matched: TraceIdField[],
  lines: TraceLine[],
  truncated: boolean,
): Trace {
  const requests = new Map<string, RequestSummary>();
  const tasks = new Map<string, TaskSummary>();
  const task = (taskId: string, line: TraceLine): TaskSummary => {
    let found = tasks.get(taskId);
    if (!found) {
      found = {
        task_id: taskId,
        type: null,
        queue: null,
        parent_id: null,
        request_id: null,
        children: [],
        attempts: [],
        retries: 0,
        status: 'queued',
      };
      tasks.set(taskId, found);
    }
    found.type ??= line['task.type'] ?? null;
    found.queue ??= line['task.queue'] ?? null;
    found.parent_id ??= line['task.parent_id'] ?? null;
    return found;
  };

  for (const line of lines) {
    const action = line['event.action'];
    if (action === EVENT_ACTION.httpRequest && line.request_id) {
      const request = requests.get(line.request_id) ?? {
        request_id: line.request_id,
        at: line['@timestamp'],
        method: null,
        path: null,
        status: null,
        nginx_ms: null,
        api_ms: null,
        tasks: [],
      };
      request.method ??= line['http.request.method'] ?? null;
      request.path ??= line['url.path'] ?? null;
      request.status ??= line['http.response.status_code'] ?? null;
      if (line['service.name'] === 'nginx' && typeof line['nginx.request_time_s'] === 'number') {
        request.nginx_ms = Math.round(line['nginx.request_time_s'] * 1000);
      } else if (typeof line['event.duration'] === 'number') {
        request.api_ms = Math.round(line['event.duration'] / 1e5) / 10;
      }
      if (line['@timestamp'] < request.at) request.at = line['@timestamp'];
      requests.set(line.request_id, request);
    }
    if (!line.task_id) continue;
    const summary = task(line.task_id, line);
    if (action === EVENT_ACTION.taskQueued) {
      summary.request_id ??= line.request_id ?? null;
    } else if (action === EVENT_ACTION.taskStarted) {
      summary.attempts.push({
        attempt: line['task.attempt'] ?? summary.attempts.length + 1,
        started_at: line['@timestamp'],
        finished_at: null,
        queue_wait_ms: line['task.queue_wait_ms'] ?? null,
        run_ms: null,
        outcome: 'running',
      });
      summary.status = 'running';
    } else if (
      action === EVENT_ACTION.taskCompleted ||
      action === EVENT_ACTION.taskRetried ||
      action === EVENT_ACTION.taskFailed
    ) {
      const attempt = summary.attempts.at(-1);
      const outcome: AttemptOutcome =
        action === EVENT_ACTION.taskCompleted
          ? 'completed'
          : action === EVENT_ACTION.taskRetried
            ? 'retried'
            : 'failed';
      if (attempt && attempt.outcome === 'running') {
        attempt.finished_at = line['@timestamp'];
        attempt.run_ms = line['task.run_ms'] ?? ms(attempt.started_at, line['@timestamp']);
        attempt.outcome = outcome;
      }
      if (outcome === 'retried') summary.retries += 1;
      summary.status = outcome === 'retried' ? 'queued' : outcome;
    }
  }
  for (const summary of tasks.values()) {
    // The API writes "queued" before its request line: join them once both are known.
    if (summary.request_id) requests.get(summary.request_id)?.tasks.push(summary.task_id);
    // Each task is visited once, so it joins its parent's children once: no search of them,
    // which a hostile flow of thousands of children would make quadratic.
    const parent = summary.parent_id ? tasks.get(summary.parent_id) : undefined;
    if (parent) parent.children.push(summary.task_id);
  }

  const first = lines[0]?.['@timestamp'] ?? '';
  const last = lines.at(-1)?.['@timestamp'] ?? '';
  const services: Record<string, number> = {};
  for (const line of lines) {
    const service = line['service.name'] ?? 'unknown';
    services[service] = (services[service] ?? 0) + 1;
  }
  const roots = [...tasks.values()].filter((t) => !t.parent_id || !tasks.has(t.parent_id));
  const status =
    roots.length === 0
      ? 'no tasks'
      : roots.some((t) => t.status === 'failed')
        ? 'failed'
        : roots.every((t) => t.status === 'completed')
          ? 'completed'
          : roots.some((t) => t.status === 'running')
            ? 'running'
            : 'queued';
  const correlationIds = [
    ...new Set(lines.map((l) => l.correlation_id).filter((c): c is string => !!c)),
  ];
  return {
    id,
    matched,
    correlation_ids: correlationIds,
    requests: [...requests.values()].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)),
    tasks: [...tasks.values()],
    summary: {
      first_at: first,
      last_at: last,
      total_ms: first && last ? ms(first, last) : 0,
      lines: lines.length,
      services,
      retries: [...tasks.values()].reduce((sum, t) => sum + t.retries, 0),
      status,
    },
    lines,
    truncated,
  };
}

/** Whether every task of the flow has reached its end (what `--follow` waits for). */
export function isFinished(trace: Trace): boolean {
  return trace.summary.status === 'completed' || trace.summary.status === 'failed';
}
