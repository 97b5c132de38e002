import type { NextFunction, Request, Response } from 'express';
import { flowContext } from '../context/flow-context';
import { routeOf } from '../context/route-of';
import type { AppLogger as Logger } from './logger';
import { loggableHeaders } from './redact';
import { EVENT_ACTION } from './event-actions.mjs';

/** Told of each request once it is answered, with its route template (e.g. the metrics). */
export type RequestObserver = (
  method: string,
  route: string,
  status: number,
  seconds: number,
) => void;

/**
 * Writes each request's access line once, when the response finishes or the client goes away,
 * inside the request's flow context (when the HTTP context middleware runs before it), so that
 * it carries the IDs the request ended with.
 */
export function accessLogMiddleware(logger: Logger, observe?: RequestObserver) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    const context = flowContext.get();
    let logged = false;
    const access = (): void => {
      if (logged) return;
      logged = true;
      const ns = process.hrtime.bigint() - started;
      // The raw request target, cut short: JSON escaping keeps it inside its field.
      const path = req.originalUrl.split('?')[0].slice(0, 2048);
      const status = res.headersSent ? res.statusCode : 499;
      observe?.(req.method, routeOf(req), status, Number(ns) / 1e9);
      const write = (): void =>
        logger.info(
          {
            'event.action': EVENT_ACTION.httpRequest,
            'event.duration': Number(ns),
            'http.request.method': req.method,
            'request.headers': loggableHeaders(req.headers),
            'http.response.status_code': status,
            'url.path': path,
            'client.address': req.socket.remoteAddress,
          },
          `${req.method} ${path} ${status} ${(Number(ns) / 1e6).toFixed(1)} ms`,
        );
      if (context) flowContext.run(context, write);
      else write();
    };
    res.once('finish', access);
    res.once('close', access);
    next();
  };
}
