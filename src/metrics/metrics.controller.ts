import { Controller, Get, Header, HttpStatus, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { parseApiKeys } from '../auth/api-keys';
import { Authenticator } from '../auth/authenticator';
import { Public } from '../auth/public.decorator';
import { AppConfig } from '../config/app-config';
import { ProblemException } from '../problem/problem.exception';
import { Metrics } from './metrics';
import { scrapeRefusal } from './scrape-access';

/**
 * `GET /metrics` on the API's own port, in the Prometheus text format. With API_KEYS set it
 * needs a key with the admin grant. The key's check and rate limit are the Authenticator's, as
 * on every route, but a scrape does not fail with Redis (which the rate limits live in): when
 * the limits cannot be read, the key is still checked, in constant time, and the scrape answers,
 * so that an outage shows in the metrics instead of hiding them.
 * @see docs/metrics.md
 */
@Public()
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  private readonly keys;

  constructor(
    private readonly metrics: Metrics,
    private readonly authenticator: Authenticator,
    config: AppConfig,
  ) {
    this.keys = parseApiKeys(config.API_KEYS);
  }

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (!this.metrics.enabled) {
      throw new ProblemException(HttpStatus.NOT_FOUND, {
        title: 'Not Found',
        detail: 'Metrics are off on this server (METRICS=false): set METRICS=true to serve them.',
      });
    }
    try {
      await this.authenticator.authenticate(req, res);
    } catch (error) {
      // 503: Redis does not answer, and the rate limits cannot be read. Anything else (a key
      // refused, too many failures) is the answer.
      if (!(error instanceof ProblemException && error.getStatus() === 503)) throw error;
    }
    const refusal = scrapeRefusal(this.keys, req.headers.authorization, req.headers['x-api-key']);
    if (refusal) {
      throw new ProblemException(refusal.status, {
        title: refusal.status === 401 ? 'Unauthorized' : 'Forbidden',
        detail: refusal.detail,
      });
    }
    const text = await this.metrics.render();
    res.type(this.metrics.contentType).send(text);
  }
}
