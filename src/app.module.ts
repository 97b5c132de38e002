import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuthModule } from './auth/auth.module';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { HealthModule } from './health/health.module';
import { LogStoreModule } from './logging/log-store.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { MonitoringModule } from './monitoring/monitoring.module';
import { ProblemDetailsFilter } from './problem/problem-details.filter';
import { RedisModule } from './redis/redis.module';
import { TracesModule } from './traces/traces.module';
import { TasksModule } from './tasks/tasks.module';

/** The HTTP API. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot('threadline-api'),
        MetricsModule.forRoot(),
        // Installs the log index template at start-up (ES_SETUP_ON_START).
        LogStoreModule,
        RedisModule,
        AuthModule,
        HealthModule,
        TasksModule,
        MonitoringModule,
        TracesModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: ProblemDetailsFilter }],
    };
  }
}
