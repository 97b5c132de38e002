import { FLOWS_SCANNED } from '../traces/flows/flow-filter';
import type { FlowSummary } from '../traces/flows/flow-search';
import { formatDuration } from '../traces/trace-format.mjs';
import type { Style } from './render';

/** How a status is coloured: as log levels are (failed as errors, running as warnings). */
const STATUS_LEVEL: Record<FlowSummary['status'], string> = {
  failed: 'error',
  running: 'warn',
  completed: 'info',
  none: 'debug',
};

/** The columns before the first error, and their widths (the correlation ID is never cut). */
const COLUMNS = [
  ['LAST LINE', 20],
  ['STATUS', 14],
  ['DURATION', 8],
  ['CORRELATION ID', 36],
  ['SERVICES', 16],
  ['TASKS', 19],
  ['RETRIES', 7],
] as const;
const GAP = '  ';
/** The first error's room when stdout is no terminal (a file, a pipe). */
const ERROR_WIDTH_PIPED = 60;
const ERROR_WIDTH_MIN = 20;

/** `2/3 done, 1 failed`; `-` for a flow that queued no task. */
export function tasksCell(tasks: FlowSummary['tasks']): string {
  if (tasks.total === 0) return '-';
  return [
    `${tasks.completed}/${tasks.total} done`,
    tasks.failed ? `${tasks.failed} failed` : '',
    tasks.running ? `${tasks.running} running` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/** `text` on one line, at most `width` characters, ending in … when cut. */
export function cut(text: string, width: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= width ? line : `${line.slice(0, Math.max(0, width - 1))}…`;
}

/** The first error's width: what the terminal leaves of its width, or a fixed one when piped. */
export function errorWidth(columns: number | undefined): number {
  if (!columns) return ERROR_WIDTH_PIPED;
  const used = COLUMNS.reduce((sum, [, width]) => sum + width + GAP.length, 0);
  return Math.max(ERROR_WIDTH_MIN, columns - used);
}

const pad = (text: string, width: number): string => text.padEnd(width);

/** The table's header row. */
export function flowsHeader(style: Style): string {
  return style.bold([...COLUMNS.map(([name, width]) => pad(name, width)), 'FIRST ERROR'].join(GAP));
}

/**
 * One flow as a row: its last line's time, status (in words, and a slow mark), duration,
 * correlation ID whole, services (without the `threadline-` of their names), tasks, retries,
 * and its first error cut to `width`.
 */
export function flowRow(flow: FlowSummary, style: Style, width: number): string {
  const status = `${flow.status}${flow.slow ? ' slow' : ''}`;
  const cells = [
    flow.last_at.replace(/\.\d+Z$/, 'Z'),
    status,
    formatDuration(flow.duration_ms),
    flow.correlation_id,
    flow.services.map((s) => s.replace(/^threadline-/, '')).join(','),
    tasksCell(flow.tasks),
    String(flow.retries),
  ].map((cell, i) => pad(cell, COLUMNS[i][1]));
  cells[1] = style.level(STATUS_LEVEL[flow.status], cells[1]);
  cells[0] = style.dim(cells[0]);
  const error = flow.first_error ? cut(flow.first_error.message || '(no message)', width) : '-';
  return [...cells, error].join(GAP);
}

/** Says how to get the page after the last one printed. */
export function nextPageNotice(cursor: string): string {
  return `more flows: add --cursor ${cursor} (with the same options) for the next page, or --all for every page`;
}

/** Says the window held more flows than a list reads. */
export function truncatedNotice(): string {
  return `the window held more than ${FLOWS_SCANNED} flows: only its most recent were read; narrow --until (or --since) to reach older ones`;
}
