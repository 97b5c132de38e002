import { type DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { LogTransportHandle } from '../logging/log-transport-handle';
import { MetricsListener } from './metrics-listener';
import { Metrics } from './metrics';

/** The process's Prometheus metrics, and the METRICS_PORT listener that serves them. */
@Global()
@Module({})
export class MetricsModule {
  static forRoot(): DynamicModule {
    return {
      module: MetricsModule,
      providers: [
        {
          provide: Metrics,
          inject: [AppConfig, LogTransportHandle],
          useFactory: (config: AppConfig, shipping: LogTransportHandle) =>
            new Metrics(config.METRICS, () => shipping.status()),
        },
        MetricsListener,
      ],
      exports: [Metrics],
    };
  }
}
