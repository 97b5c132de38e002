import { FLOW_FIELDS, type FlowLogField } from '../context/flow-fields';

/**
 * The ID fields every line carries (null while unknown), in the flow table's order, with the
 * label a pretty line gives their first 8 characters.
 */
const ID_LABELS: Readonly<Record<string, string>> = { request_id: 'req', correlation_id: 'corr' };
const IDS: readonly [field: string, label: string][] = FLOW_FIELDS.flatMap<FlowLogField>(
  (field) => field.log,
)
  .filter((log) => log.written === 'always')
  .map((log) => [log.name, ID_LABELS[log.name] ?? log.name.replace(/_id$/, '')]);

/** SGR colour of each level's label. */
const LEVEL_COLOURS: Readonly<Record<string, number>> = {
  trace: 90,
  debug: 34,
  info: 32,
  warn: 33,
  error: 31,
  fatal: 35,
};
const DIM = 2;
const CYAN = 36;

/** Control characters (but tab and newline): escaped, so a line cannot drive the terminal. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const escapeControl = (text: string): string =>
  text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** `HH:MM:SS.mmm` of an ISO time, in the local time zone. */
function clock(iso: string | undefined): string {
  const time = iso === undefined ? Number.NaN : Date.parse(iso);
  if (Number.isNaN(time)) return '--:--:--.---';
  const at = new Date(time);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}.${String(at.getMilliseconds()).padStart(3, '0')}`;
}

/**
 * A field of an ECS line, whether written dotted at the top level (`error.message`) or nested
 * (`{"error":{"message":…}}`, as ecs-pino-format converts `err`).
 */
function field(line: Record<string, unknown>, group: string, name: string): string | undefined {
  const nested = line[group];
  return (
    text(line[`${group}.${name}`]) ??
    (typeof nested === 'object' && nested !== null
      ? text((nested as Record<string, unknown>)[name])
      : undefined)
  );
}

/**
 * One log line for a person, from the JSON line that is shipped:
 * `12:04:05.123 INFO  api    req=1f0e2d3c corr=1f0e2d3c task=9a8b7c6d [TasksService] message`,
 * then an error's stack, indented, on the lines below. The level is coloured when `colour`.
 * Anything that is not a JSON object is passed through as it is.
 * @see docs/logging.md#on-a-terminal
 */
export function prettyLine(json: string, colour: boolean): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return `${escapeControl(json)}\n`;
  }
  if (typeof parsed !== 'object' || parsed === null) return `${escapeControl(json)}\n`;
  const line = parsed as Record<string, unknown>;
  const paint = (code: number, value: string): string =>
    colour ? `\u001b[${code}m${value}\u001b[0m` : value;

  const level = text(line['log.level']) ?? 'info';
  const service = (text(line['service.name']) ?? '-').replace(/^threadline-/, '');
  const parts = [
    paint(DIM, clock(text(line['@timestamp']))),
    paint(LEVEL_COLOURS[level] ?? 0, level.toUpperCase().padEnd(5)),
    paint(CYAN, service.padEnd(6)),
  ];
  const ids = IDS.flatMap(([name, label]) => {
    const id = text(line[name]);
    return id === undefined ? [] : [`${label}=${escapeControl(id.slice(0, 8))}`];
  });
  if (ids.length > 0) parts.push(paint(DIM, ids.join(' ')));
  const logger = text(line['log.logger']);
  if (logger !== undefined && logger !== line['service.name'])
    parts.push(paint(DIM, `[${escapeControl(logger)}]`));

  let message = text(line.message) ?? '';
  const stack = field(line, 'error', 'stack_trace');
  const error = [field(line, 'error', 'type'), field(line, 'error', 'message')]
    .filter((part) => part !== undefined)
    .join(': ');
  if (stack === undefined && error !== '' && !message.includes(error)) {
    message = message === '' ? error : `${message}: ${error}`;
  }
  parts.push(indent(escapeControl(message)));
  const head = parts.join(' ');
  return stack === undefined ? `${head}\n` : `${head}\n${indent(`    ${escapeControl(stack)}`)}\n`;
}

/** Every line of newline-separated JSON lines, made pretty ({@link prettyLine}). */
export function prettyLines(lines: string, colour: boolean): string {
  let out = '';
  for (const line of lines.split('\n')) if (line !== '') out += prettyLine(line, colour);
  return out;
}

/** A message or stack of several lines: the lines after the first indented under it. */
const indent = (value: string): string => value.replace(/\n/g, '\n    ');
