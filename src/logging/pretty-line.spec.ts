import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { prettyLine, prettyLines } from './pretty-line';

const ESC = '\u001b';
const AT = '2026-12-01T13:10:42.689Z';
/** What AT reads as here, in the local time zone (a person's terminal shows local time). */
const CLOCK = ((d) =>
  `${[d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':')}.689`)(
  new Date(AT),
);

const ecsLine = (fields: Record<string, unknown>): string =>
  JSON.stringify({
    'log.level': 'info',
    '@timestamp': AT,
    'process.pid': 4242,
    'service.name': 'threadline-api',
    'event.dataset': 'threadline-api',
    ...fields,
  });

/** The JSON lines the real logger writes, as the transport gets them. */
function logged(write: (logger: ReturnType<typeof createLogger>) => void): string[] {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString().trimEnd());
      callback();
    },
  });
  write(createLogger({ service: 'threadline-worker', level: 'info', destination }));
  return lines;
}

describe(prettyLine.name, () => {
  it('reads time, level, service, short IDs, the logger and the message', () => {
    const line = ecsLine({
      request_id: '1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0',
      correlation_id: 'corr-0123456789',
      task_id: null,
      'log.logger': 'TasksService',
      message: 'task queued',
    });
    expect(prettyLine(line, false)).toBe(
      `${CLOCK} INFO  api    req=1f0e2d3c corr=corr-012 [TasksService] task queued\n`,
    );
  });

  it('labels the task ID of a worker line', () => {
    const line = ecsLine({
      'service.name': 'threadline-worker',
      'log.level': 'warn',
      request_id: 'aaaaaaaa-1',
      correlation_id: 'bbbbbbbb-2',
      task_id: 'cccccccc-3',
      message: 'retrying',
    });
    expect(prettyLine(line, false)).toBe(
      `${CLOCK} WARN  worker req=aaaaaaaa corr=bbbbbbbb task=cccccccc retrying\n`,
    );
  });

  it('colours the level (and dims the rest) only when asked', () => {
    const line = ecsLine({ 'log.level': 'error', message: 'boom' });
    expect(prettyLine(line, true)).toContain(`${ESC}[31mERROR${ESC}[0m`);
    expect(prettyLine(line, false)).not.toContain(ESC);
  });

  it('indents an error stack under its line, from the real logger', () => {
    const error = new TypeError('bad input');
    const [json] = logged((logger) => logger.error({ err: error }, 'task failed'));
    const [head, ...stack] = prettyLine(json, false).trimEnd().split('\n');
    expect(head).toMatch(/^\d\d:\d\d:\d\d\.\d{3} ERROR worker task failed$/);
    expect(stack[0]).toBe('    TypeError: bad input');
    expect(stack.length).toBeGreaterThan(1);
    for (const frame of stack.slice(1)) expect(frame).toMatch(/^ {8}at /);
  });

  it('takes a stack written as a dotted field (Nest errors)', () => {
    const line = ecsLine({
      'log.level': 'error',
      'error.stack_trace': 'Error: no Redis\n    at connect (redis.ts:1:1)',
      message: 'no Redis',
    });
    expect(prettyLine(line, false).split('\n').slice(1)).toEqual([
      '    Error: no Redis',
      '        at connect (redis.ts:1:1)',
      '',
    ]);
  });

  it('adds an error without a stack to the message, unless the message says it', () => {
    const failed = ecsLine({
      'log.level': 'warn',
      'error.type': 'ConnectionError',
      'error.message': 'connect ECONNREFUSED',
      message: 'could not install the template',
    });
    expect(prettyLine(failed, false)).toMatch(
      / could not install the template: ConnectionError: connect ECONNREFUSED\n$/,
    );
    const said = ecsLine({ 'error.message': 'timed out', message: 'request timed out' });
    expect(prettyLine(said, false)).toMatch(/ request timed out\n$/);
  });

  it('escapes control characters, so that a logged value cannot drive the terminal', () => {
    const line = ecsLine({ message: `path /a${ESC}[2J\rb`, request_id: `x${ESC}]0;t` });
    const pretty = prettyLine(line, false);
    expect(pretty).not.toContain(ESC);
    expect(pretty).not.toContain('\r');
    expect(pretty).toContain('path /a\\u001b[2J\\u000db');
    expect(pretty.indexOf('\n')).toBe(pretty.length - 1);
  });

  it('indents the later lines of a message of several lines', () => {
    expect(prettyLine(ecsLine({ message: 'one\ntwo' }), false)).toMatch(/ one\n {4}two\n$/);
  });

  it('passes a line that is not a JSON object through', () => {
    expect(prettyLine('not json', false)).toBe('not json\n');
    expect(prettyLine('42', false)).toBe('42\n');
  });
});

describe(prettyLines.name, () => {
  it('makes each line of a chunk pretty, and keeps no JSON', () => {
    const chunk = logged((logger) => {
      logger.info('first');
      logger.warn('second');
    }).join('\n');
    const pretty = prettyLines(`${chunk}\n`, false).split('\n');
    expect(pretty).toEqual([
      expect.stringMatching(/ INFO {2}worker first$/),
      expect.stringMatching(/ WARN {2}worker second$/),
      '',
    ]);
  });
});
