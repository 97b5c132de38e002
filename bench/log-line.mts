// The cost of one log line: Threadline's logger (ECS format, stamped with a flow context)
// against bare pino writing the same message and winston with the same fields, all
// synchronously to /dev/null. Each side runs in a process of its own
// (`node bench/log-line.mts <stamped|bare|winston> <lines>` prints nanoseconds per line): in
// one process, whichever ran before left its garbage and its state to the next, which made
// the stamped line look about 30 % slower after winston had run.
import pino from 'pino';
import { closeSync, openSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import winston from 'winston';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

interface LoggingModule {
  createLogger(
    this: void,
    options: {
      service: 'threadline-api';
      level: string;
      destination: pino.DestinationStream;
    },
  ): pino.Logger;
}
interface ContextModule {
  flowContext: { run<T>(this: void, context: Record<string, unknown>, fn: () => T): T };
}

/** Times `lines` lines through each logger; both are built once and warmed up first. */
function lineBench(root: string): {
  stamped(lines: number): number;
  bare(lines: number): number;
  winston(lines: number): number;
} {
  const require = createRequire(import.meta.url);
  const { createLogger } = require(join(root, 'dist', 'logging', 'logger.js')) as LoggingModule;
  const { flowContext } = require(
    join(root, 'dist', 'context', 'flow-context.js'),
  ) as ContextModule;
  const stampedLogger = createLogger({
    service: 'threadline-api',
    level: 'info',
    destination: pino.destination({ dest: '/dev/null', sync: true }),
  });
  const bareLogger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: true }));
  const context = {
    request_id: 'trace-demo-123',
    correlation_id: 'trace-demo-123',
    task_id: '0b8c0c9e-7d0f-4a51-9d4c-3f1b7f2a9e11',
    trace: {
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
      flags: '01',
    },
    task: { type: 'echo', queue: 'medium', attempt: 1 },
  };
  /** Nanoseconds per line of `lines` lines written by `logger`. */
  const time = (logger: Pick<pino.Logger, 'info'>, lines: number): number => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < lines; i++) {
      logger.info(
        { 'event.action': 'task-progress', 'task.progress': i % 100 },
        'task at some percent',
      );
    }
    return Number(process.hrtime.bigint() - start) / lines;
  };
  // winston with the same fields, written synchronously like the pino sides (a plain file
  // stream would only buffer, and the write would escape the timing).
  const devNull = openSync('/dev/null', 'w');
  const winstonLogger = winston.createLogger({
    level: 'info',
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    defaultMeta: {
      'service.name': 'threadline-api',
      request_id: context.request_id,
      correlation_id: context.correlation_id,
      task_id: context.task_id,
      'trace.id': context.trace.trace_id,
      'span.id': context.trace.span_id,
      'task.type': context.task.type,
      'task.queue': context.task.queue,
      'task.attempt': context.task.attempt,
    },
    transports: [
      new winston.transports.Stream({
        stream: new Writable({
          write(chunk: Buffer, _encoding, callback) {
            writeSync(devNull, chunk);
            callback();
          },
        }),
      }),
    ],
  });
  process.once('exit', () => closeSync(devNull));
  const bench = {
    stamped: (lines: number) => flowContext.run(context, () => time(stampedLogger, lines)),
    bare: (lines: number) => time(bareLogger, lines),
    winston: (lines: number) => time(winstonLogger, lines),
  };
  return bench;
}

const SIDES = ['stamped', 'bare', 'winston'] as const;
type LineSide = (typeof SIDES)[number];

/** Nanoseconds per line of `lines` lines on `side`, measured in a child process. */
export function timeLines(side: LineSide, lines: number): number {
  const run = spawnSync(process.execPath, [import.meta.filename, side, String(lines)], {
    encoding: 'utf8',
  });
  const ns = Number(run.stdout.trim());
  if (run.status !== 0 || !Number.isFinite(ns)) {
    throw new Error(`log-line ${side} exited ${run.status}: ${run.stderr}`);
  }
  return ns;
}

if (import.meta.main) {
  const side = process.argv[2] as LineSide;
  const lines = Number(process.argv[3]);
  if (!SIDES.includes(side) || !(lines > 0)) {
    process.stderr.write('usage: node bench/log-line.mts stamped|bare|winston <lines>\n');
    process.exit(2);
  }
  const bench = lineBench(resolve(import.meta.dirname, '..'));
  bench[side](20_000);
  process.stdout.write(`${bench[side](lines)}\n`);
}
