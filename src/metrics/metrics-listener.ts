import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { parseApiKeys } from '../auth/api-keys';
import { AppConfig } from '../config/app-config';
import type { AppLogger } from '../logging/logger';
import { PINO } from '../logging/logging.module';
import { Metrics } from './metrics';
import { scrapeRefusal } from './scrape-access';

/**
 * A small HTTP server on METRICS_PORT that answers `GET /metrics` and nothing else: how a
 * worker, which has no other HTTP server, is scraped. Off while METRICS_PORT is 0 or METRICS
 * is off. With API_KEYS set it asks for an admin key, as the API's `/metrics` does.
 * @see docs/metrics.md
 */
@Injectable()
export class MetricsListener implements OnModuleInit, OnApplicationShutdown {
  private server: Server | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    @Inject(PINO) private readonly log: AppLogger,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.METRICS || this.config.METRICS_PORT === 0) return;
    const keys = parseApiKeys(this.config.API_KEYS);
    const server = createServer((req, res) => void this.answer(keys, req, res));
    server.listen(this.config.METRICS_PORT, this.config.METRICS_HOST);
    try {
      await once(server, 'listening');
    } catch (error) {
      throw new Error(
        `cannot serve metrics on ${this.config.METRICS_HOST}:${this.config.METRICS_PORT} (${(error as Error).message}): give each process its own METRICS_PORT, or 0 for none`,
        { cause: error },
      );
    }
    // Past start-up, an error of the server (no file descriptors left, say) is said, not thrown.
    server.on('error', (error) =>
      this.log.warn(
        { 'error.message': error.message },
        `the metrics listener on METRICS_PORT ${this.config.METRICS_PORT} failed: ${error.message}`,
      ),
    );
    this.server = server;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async answer(
    keys: ReturnType<typeof parseApiKeys>,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      return problem(res, 404, 'Not Found', 'This listener serves GET /metrics only.');
    }
    const refusal = scrapeRefusal(keys, req.headers.authorization, req.headers['x-api-key']);
    if (refusal) {
      return problem(
        res,
        refusal.status,
        refusal.status === 401 ? 'Unauthorized' : 'Forbidden',
        refusal.detail,
      );
    }
    try {
      const text = await this.metrics.render();
      res.writeHead(200, { 'Content-Type': this.metrics.contentType });
      res.end(req.method === 'HEAD' ? undefined : text);
    } catch (error) {
      problem(
        res,
        500,
        'Internal Server Error',
        `metrics could not be read: ${(error as Error).message}`,
      );
    }
  }
}

function problem(res: ServerResponse, status: number, title: string, detail: string): void {
  res.writeHead(status, { 'Content-Type': 'application/problem+json' });
  res.end(JSON.stringify({ type: 'about:blank', title, status, detail }));
}
