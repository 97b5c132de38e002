import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNotEmpty, IsString, Max, Min } from 'class-validator';
import { IsServiceUrl } from './is-service-url.validator';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The process environment, typed and validated once at boot by {@link loadConfig}.
 * Each property is named after its environment variable; README.md#configuration lists them.
 */
export class AppConfig {
  /** TCP port the HTTP API listens on. Default: `3000`. */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number from 1 to 65535, e.g. PORT=3000' })
  @Min(1, { message: 'must be a whole number from 1 to 65535, e.g. PORT=3000' })
  @Max(65535, { message: 'must be a whole number from 1 to 65535, e.g. PORT=3000' })
  PORT = 3000;

  /** Address the HTTP API binds to. Default: `127.0.0.1` (use `0.0.0.0` in a container). */
  @IsString()
  @IsNotEmpty({ message: 'must be a host name or IP address, e.g. HOST=127.0.0.1' })
  HOST = '127.0.0.1';

  /** Redis holding the queues and results. Default: `redis://127.0.0.1:6379`. */
  @IsServiceUrl(['redis:', 'rediss:'], 'redis://127.0.0.1:6379')
  REDIS_URL = 'redis://127.0.0.1:6379';

  /** Elasticsearch receiving the log lines. Default: `http://127.0.0.1:9200`. */
  @IsServiceUrl(['http:', 'https:'], 'http://127.0.0.1:9200')
  ELASTICSEARCH_URL = 'http://127.0.0.1:9200';

  /** Lowest level written to the log. Default: `info`. */
  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: LogLevel = 'info';

  /** How long one readiness probe of a dependency may take, in ms. Default: `2000`. */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number of milliseconds from 100 to 60000' })
  @Min(100, { message: 'must be a whole number of milliseconds from 100 to 60000' })
  @Max(60000, { message: 'must be a whole number of milliseconds from 100 to 60000' })
  READY_TIMEOUT_MS = 2000;
}
