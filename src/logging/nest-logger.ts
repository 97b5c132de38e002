import type { LoggerService } from '@nestjs/common';
import type { AppLogger as Logger } from './logger';

/**
 * Nest's start-up detail, one line per module loaded and per route mapped: written at debug,
 * so that a start at LOG_LEVEL=info shows what a person needs to read.
 */
const NEST_DETAIL_CONTEXTS: ReadonlySet<string> = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
]);

/**
 * Nest's logger interface over pino, so that Nest's own lines (and ours through
 * `new Logger(context)`) are ECS lines stamped with the flow context like every other.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    const context = params.at(-1);
    const detail = typeof context === 'string' && NEST_DETAIL_CONTEXTS.has(context);
    this.write(detail ? 'debug' : 'info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    // Nest passes (message, stack?, context?).
    const [stack, ...rest] = params;
    const error =
      typeof stack === 'string' && stack.includes('\n')
        ? { 'error.stack_trace': stack }
        : undefined;
    this.write('error', message, typeof stack === 'string' && error ? rest : params, error);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(
    level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal',
    message: unknown,
    params: unknown[],
    extra?: Record<string, unknown>,
  ): void {
    const context =
      params.length > 0 && typeof params[params.length - 1] === 'string'
        ? (params[params.length - 1] as string)
        : undefined;
    const fields: Record<string, unknown> = { ...extra };
    if (context) fields['log.logger'] = context;
    if (message instanceof Error) {
      this.pino[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.pino[level]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      this.pino[level](fields, String(message));
    }
  }
}
