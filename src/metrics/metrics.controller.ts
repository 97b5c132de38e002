import { Controller, Get, Header, HttpStatus, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { parseApiKeys } from '../auth/api-keys';
import { AppConfig } from '../config/app-config';
import { ProblemException } from '../problem/problem.exception';
import { Metrics } from './metrics';
import { scrapeRefusal } from './scrape-access';

/**
 * `GET /metrics` on the API's own port, in the Prometheus text format. With API_KEYS set it
 * needs a key with the admin grant (the API key guard checks the key and its rate limit first).
 * @see docs/metrics.md
 */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  private readonly keys;

  constructor(
    private readonly metrics: Metrics,
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
