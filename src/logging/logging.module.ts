import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { AppLogger as Logger } from './logger';
import { AppConfig } from '../config/app-config';
import { createLogger, type ServiceName } from './logger';
import { LogTransportHandle } from './log-transport-handle';
import { PinoNestLogger } from './nest-logger';

/** Injection token of the process's pino logger. */
export const PINO = Symbol('PINO');

/** The process's pino logger, and Nest's logger on top of it. */
@Global()
@Module({})
export class LoggingModule {
  static forRoot(service: ServiceName): DynamicModule {
    return {
      module: LoggingModule,
      providers: [
        {
          provide: LogTransportHandle,
          inject: [AppConfig],
          // Nothing logs before the transport thread runs: lines written earlier would die
          // with a process killed in its first milliseconds.
          useFactory: async (config: AppConfig) => {
            const shipping = LogTransportHandle.start(config, service);
            await shipping.ready;
            return shipping;
          },
        },
        {
          provide: PINO,
          inject: [AppConfig, LogTransportHandle],
          useFactory: (config: AppConfig, shipping: LogTransportHandle) =>
            createLogger({
              service,
              level: config.LOG_LEVEL,
              stamp: config.LOG_CONTEXT,
              destination: shipping.destination,
              dataStream: config.LOG_DATA_STREAM,
            }),
        },
        {
          provide: PinoNestLogger,
          inject: [PINO],
          useFactory: (pino: Logger) => new PinoNestLogger(pino),
        },
      ],
      exports: [PINO, PinoNestLogger, LogTransportHandle],
    };
  }
}
