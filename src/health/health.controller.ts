import { Public } from '../auth/public.decorator';
import { Controller, Get, HttpStatus, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheck,
  type HealthCheckResult,
  HealthCheckService,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { AppConfig } from '../config/app-config';
import { ElasticsearchRepository } from '../elasticsearch/elasticsearch.repository';
import { LogTransportHandle } from '../logging/log-transport-handle';
import { ProblemException } from '../problem/problem.exception';
import { EventLoopMonitor } from './event-loop-monitor';
import { RedisRepository } from '../redis/redis.repository';

/** Seconds a client should wait before asking `/ready` again after a 503. */
const READY_RETRY_AFTER_S = 5;

/**
 * Liveness (`/health`: the process answers) and readiness (`/ready`: every dependency answers).
 * @see https://docs.nestjs.com/recipes/terminus
 */
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly redis: RedisRepository,
    private readonly elasticsearch: ElasticsearchRepository,
    private readonly config: AppConfig,
    private readonly logShipping: LogTransportHandle,
    private readonly eventLoop: EventLoopMonitor,
  ) {}

  @Get('health')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    // Reported, never failing: a slow loop is for people and alerts to judge, not a restart.
    return this.health.check([
      () => this.indicator.check('event_loop').up({ ...this.eventLoop.status() }),
    ]);
  }

  @Get('ready')
  @HealthCheck()
  async ready(): Promise<HealthCheckResult> {
    const timeout = this.config.READY_TIMEOUT_MS;
    try {
      return await this.health.check([
        () =>
          this.indicator
            .check('redis')
            .attempt(() => this.redis.ping())
            .withTimeout(timeout),
        () =>
          this.indicator
            .check('elasticsearch')
            .attempt(async ({ signal }) => {
              const clusterStatus = await this.elasticsearch.clusterStatus(signal);
              if (clusterStatus === 'red') throw new Error('cluster health is red');
              return { cluster_status: clusterStatus };
            })
            .withTimeout(timeout),
        // Never fails readiness: while Elasticsearch is away lines wait in the spool. The
        // counters say how shipping goes (docs/log-shipping.md).
        () => this.indicator.check('log_shipping').up({ ...this.logShipping.status() }),
      ]);
    } catch (error) {
      if (error instanceof ServiceUnavailableException) throw notReady(error);
      throw error;
    }
  }
}

function notReady(error: ServiceUnavailableException): ProblemException {
  const result = error.getResponse() as Partial<HealthCheckResult>;
  const failing = Object.entries(result.error ?? {}).map(([name, check]) => {
    const reason = typeof check?.message === 'string' ? `: ${check.message}` : '';
    return `${name} is down${reason}`;
  });
  return new ProblemException(HttpStatus.SERVICE_UNAVAILABLE, {
    title: 'Not ready',
    detail: `Not ready: ${failing.join('; ')}. Start the service or check its URL (npm run services -- status).`,
    extensions: { checks: result.details ?? {} },
    headers: { 'Retry-After': String(READY_RETRY_AFTER_S) },
  });
}
