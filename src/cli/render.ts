import type { TaskSummary, Trace, TraceLine } from '../traces/trace';
import { flowDiscoverLink, formatDuration, shortId } from '../traces/trace-format.mjs';

export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  level(level: string, text: string): string;
}

const paint = (code: number) => (text: string) => `\u001b[${code}m${text}\u001b[0m`;
const LEVEL_COLOURS: Record<string, number> = {
  error: 31,
  fatal: 31,
  warn: 33,
  info: 32,
  debug: 36,
};

export const COLOURS: Style = {
  bold: paint(1),
  dim: paint(2),
  level: (level, text) => paint(LEVEL_COLOURS[level] ?? 0)(text),
};
export const PLAIN: Style = { bold: (t) => t, dim: (t) => t, level: (_l, t) => t };

function taskLines(trace: Trace, task: TaskSummary, depth: number, style: Style): string[] {
  const indent = '  '.repeat(depth + 1);
  const attempts = task.attempts.length === 1 ? '1 attempt' : `${task.attempts.length} attempts`;
  const out = [
    `${indent}${depth > 0 ? '└ ' : ''}task ${style.bold(shortId(task.task_id))} ${task.type ?? '?'} on ${task.queue ?? '?'} · ${task.status} · ${attempts}${task.retries ? ` (${task.retries} retried)` : ''}`,
  ];
  for (const attempt of task.attempts) {
    out.push(
      `${indent}    attempt ${attempt.attempt}: waited ${formatDuration(attempt.queue_wait_ms)}, ran ${formatDuration(attempt.run_ms)} → ${attempt.outcome}`,
    );
  }
  for (const child of task.children) {
    const childTask = trace.tasks.find((t) => t.task_id === child);
    if (childTask) out.push(...taskLines(trace, childTask, depth + 1, style));
  }
  return out;
}

/** One timeline row: time, +ms since the first line, service, level, short IDs, message. */
export function timelineRow(line: TraceLine, firstAt: string, style: Style): string {
  const offset = Date.parse(line['@timestamp']) - Date.parse(firstAt);
  const level = line['log.level'] ?? 'info';
  return [
    style.dim(line['@timestamp']),
    `+${offset} ms`.padStart(10),
    (line['service.name'] ?? '?').padEnd(17),
    style.level(level, level.padEnd(5)),
    `req ${shortId(line.request_id)}`,
    `task ${shortId(line.task_id)}`,
    line.message ?? '',
  ].join('  ');
}

/**
 * The line that says a trace was cut: what it shows, and how to see the rest (`maxLimit` is
 * the largest --limit the CLI takes).
 */
export function cutNotice(shown: number, maxLimit: number): string {
  return `showing the first ${shown} of more lines; narrow with --since/--until or raise --limit up to ${maxLimit}`;
}

/**
 * The human form: header (IDs and how they relate), timeline, summary; and, when the trace
 * was cut, a last line saying so ({@link cutNotice}).
 */
export function renderTable(
  trace: Trace,
  style: Style,
  options: { maxLimit: number; kibanaUrl?: string },
): string {
  const { summary } = trace;
  const { kibanaUrl } = options;
  const services = Object.entries(summary.services)
    .map(([service, n]) => `${service} ${n}`)
    .join(', ');
  const out: string[] = [
    style.bold(`Flow of ${trace.id}`) +
      ` (found as ${trace.matched.join(', ')}) · ${trace.truncated ? `first ${summary.lines} lines (cut)` : `${summary.lines} lines`} · ${services} · ${formatDuration(summary.total_ms)}`,
    '',
    style.bold('IDs'),
    ...trace.correlation_ids.map((c) => `  correlation_id ${c}`),
  ];
  for (const request of trace.requests) {
    const hops = [
      request.nginx_ms === null ? null : `nginx ${request.nginx_ms} ms`,
      request.api_ms === null ? null : `API ${request.api_ms} ms`,
    ].filter(Boolean);
    const submitted =
      request.tasks.length > 0 ? ` → task ${request.tasks.map(shortId).join(', ')}` : '';
    out.push(
      `  request ${style.bold(shortId(request.request_id))} ${request.method ?? '?'} ${request.path ?? '?'} ${request.status ?? '?'}${hops.length ? ` · ${hops.join(', ')}` : ''}${submitted}`,
    );
  }
  const roots = trace.tasks.filter(
    (t) => !t.parent_id || !trace.tasks.some((p) => p.task_id === t.parent_id),
  );
  for (const task of roots) out.push(...taskLines(trace, task, 0, style));
  out.push('', style.bold('Timeline'));
  for (const line of trace.lines) out.push(`  ${timelineRow(line, summary.first_at, style)}`);
  out.push('', style.bold('Summary'));
  for (const request of trace.requests) {
    if (request.nginx_ms !== null && request.api_ms !== null) {
      out.push(
        `  nginx → API  ${shortId(request.request_id)}: ${request.nginx_ms} ms at nginx, ${request.api_ms} ms in the API`,
      );
    }
  }
  for (const task of trace.tasks) {
    for (const attempt of task.attempts) {
      out.push(
        `  task ${shortId(task.task_id)} attempt ${attempt.attempt}: queue wait ${formatDuration(attempt.queue_wait_ms)}, run ${formatDuration(attempt.run_ms)}, ${attempt.outcome}`,
      );
    }
  }
  out.push(
    `  retries: ${summary.retries} · total: ${formatDuration(summary.total_ms)} · status: ${summary.status}`,
  );
  if (kibanaUrl) out.push(`  Kibana: ${flowDiscoverLink(kibanaUrl, trace)}`);
  if (trace.truncated) out.push('', style.bold(cutNotice(summary.lines, options.maxLimit)));
  return `${out.join('\n')}\n`;
}
