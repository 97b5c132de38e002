// The cost of one log line: Threadline's logger (ECS format, stamped with a flow context)
// against bare pino writing the same message, both synchronously to /dev/null.
import pino from 'pino';
import { createRequire } from 'node:module';
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
  const bench = {
    stamped: (lines: number) => flowContext.run(context, () => time(stampedLogger, lines)),
    bare: (lines: number) => time(bareLogger, lines),
  };
  bench.stamped(20_000);
  bench.bare(20_000);
  return bench;
}
