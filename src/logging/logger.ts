import { ecsFormat } from '@elastic/ecs-pino-format';
import pino, { type DestinationStream, type Logger } from 'pino';
import { type FlowContext, flowContext } from '../context/flow-context';
import { flowLogFields } from '../context/flow-fields';
import { type LogSource, LogStreams } from '../config/data-streams';

export type ServiceName = 'threadline-api' | 'threadline-worker';

/** The source, and so the dataset, of each service's lines. */
export const SOURCE_OF: Record<ServiceName, LogSource> = {
  'threadline-api': 'api',
  'threadline-worker': 'worker',
};

/** LOG_DATA_STREAM's default. */
export const DEFAULT_DATA_STREAM = 'logs-threadline-default';

export interface LoggerOptions {
  service: ServiceName;
  level: string;
  /** Stamp lines with the flow context (default true; off only to measure its cost). */
  stamp?: boolean;
  destination?: DestinationStream;
  /** LOG_DATA_STREAM: it names the line's dataset and data stream (default `logs-threadline-default`). */
  dataStream?: string;
}

let cachedSecond = -1;
let cachedPrefix = '';

/**
 * `new Date().toISOString()`, built from a prefix computed once per second: formatting a Date
 * on every line costs more than the rest of the line (see the log-line benchmark).
 */
export function isoNow(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const ms = now - second * 1000;
  return `${cachedPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}

/** The logging methods Threadline uses; what `PINO` injects. */
export type AppLogger = Pick<Logger, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'>;

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
const LEVEL_FIELDS: Record<string, { 'log.level': string }> = Object.fromEntries(
  LEVELS.map((level) => [level, { 'log.level': level }]),
);

/**
 * The process's logger: pino writing ECS JSON lines to stdout, each stamped with the flow
 * context. Secrets never reach it: headers and task data go through `redact.ts` first.
 *
 * Stamping is done by pino child loggers, one per flow context (re-made when the context
 * changes), with the fields the flow's field table derives (`flowLogFields`): pino serialises a child's fields once, so a stamped line costs little more than
 * a bare one. `npm run bench -- --only line` measures it.
 * @see docs/logging.md
 */
export function createLogger(options: LoggerOptions): AppLogger {
  const { 'event.dataset': dataset, ...dataStream } = new LogStreams(
    options.dataStream ?? DEFAULT_DATA_STREAM,
  ).fields(SOURCE_OF[options.service]);
  const ecs = ecsFormat({
    serviceName: options.service,
    eventDataset: dataset,
    apmIntegration: false,
    convertErr: true,
  });
  const ecsLog = ecs.formatters?.log;
  const root = pino(
    {
      ...ecs,
      level: options.level,
      timestamp: () => `,"@timestamp":"${isoNow()}"`,
      // ecs-pino-format's per-line formatter copies every line to convert `err`, `req` and
      // `res`; only `err` is ever logged here, so convert only lines that carry one.
      formatters: {
        ...ecs.formatters,
        // The same few objects every time instead of a new one per line.
        level: (label) => LEVEL_FIELDS[label] ?? { 'log.level': label },
        log: (line) => (ecsLog && 'err' in line ? ecsLog(line) : line),
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
  // Written once, as a child's fields are: the stream the line belongs in.
  const base = root.child(dataStream);
  if (options.stamp === false) return base;

  const children = new WeakMap<FlowContext, { version: number; logger: Logger }>();
  const current = (): Logger => {
    const context = flowContext.get();
    if (!context) return base;
    const version = context.version ?? 0;
    const cached = children.get(context);
    if (cached?.version === version) return cached.logger;
    const logger = base.child(flowLogFields(context));
    children.set(context, { version, logger });
    return logger;
  };
  const stamped = {} as AppLogger;
  for (const level of LEVELS) {
    stamped[level] = (...args: Parameters<Logger['info']>) => current()[level](...args);
  }
  return stamped;
}
