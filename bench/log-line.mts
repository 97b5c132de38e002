// The cost of one log line: Threadline's logger (ECS format, stamped with a flow context)
// against bare pino writing the same message, both synchronously to /dev/null.
import pino from 'pino';
import { closeSync, openSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import winston from 'winston';
import { join } from 'node:path';

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
export function lineBench(root: string): {
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
  bench.stamped(20_000);
  bench.bare(20_000);
  bench.winston(20_000);
  return bench;
}
