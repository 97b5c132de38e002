import type { NextFunction, Request, Response } from 'express';
import type { AppLogger as Logger } from '../logging/logger';
import { loggableHeaders } from '../logging/redact';
import { type FlowContext, flowContext } from './flow-context';
import { continueTrace, idProblem, newId } from './ids';

/**
 * The HTTP edge of correlation, first in the middleware chain: takes valid inbound IDs or
 * makes new ones, echoes them on every response (errors included), runs the rest of the
 * request inside the flow context, and writes one access line when the response is done.
 * An invalid inbound ID is replaced and the line says so, without ever writing its value.
 */
export function httpContextMiddleware(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    const replaced: { header: string; reason: string }[] = [];
    const valid = (header: string): string | undefined => {
      const raw = req.headers[header];
      if (raw === undefined) return undefined;
      const value = Array.isArray(raw) ? raw.join(',') : raw;
      const problem = idProblem(value);
      if (problem === undefined) return value;
      replaced.push({ header, reason: problem });
      return undefined;
    };
    const request_id = valid('x-request-id') ?? newId();
    const correlation_id = valid('x-correlation-id') ?? request_id;
    const inbound = req.headers.traceparent;
    const { trace, valid: traceValid } = continueTrace(
      typeof inbound === 'string' ? inbound : undefined,
    );
    if (inbound !== undefined && !traceValid) {
      replaced.push({ header: 'traceparent', reason: 'it is not a valid W3C traceparent' });
    }

    res.setHeader('X-Request-ID', request_id);
    res.setHeader('X-Correlation-ID', correlation_id);
    const context: FlowContext = {
      request_id,
      correlation_id,
      trace,
      client: `addr:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`,
      setHeader: (name, value) => {
        if (!res.headersSent) res.setHeader(name, value);
      },
    };

    flowContext.run(context, () => {
      for (const { header, reason } of replaced) {
        logger.warn(
          { 'event.action': 'id-replaced', 'http.request.header': header },
          `inbound ${header} was invalid (${reason}); replaced by a generated one`,
        );
      }
      const access = accessLine(logger, req, res, started, context);
      res.once('finish', access);
      res.once('close', access);
      next();
    });
  };
}

/** Writes the request's access line once, when the response finishes or the client goes away. */
function accessLine(
  logger: Logger,
  req: Request,
  res: Response,
  started: bigint,
  context?: FlowContext,
): () => void {
  let logged = false;
  return () => {
    if (logged) return;
    logged = true;
    const ns = process.hrtime.bigint() - started;
    // The raw request target, cut short: JSON escaping keeps it inside its field.
    const path = req.originalUrl.split('?')[0].slice(0, 2048);
    const status = res.headersSent ? res.statusCode : 499;
    const write = (): void =>
      logger.info(
        {
          'event.action': 'http-request',
          'event.duration': Number(ns),
          'http.request.method': req.method,
          'http.request.headers': loggableHeaders(req.headers),
          'http.response.status_code': status,
          'url.path': path,
          'client.address': req.socket.remoteAddress,
        },
        `${req.method} ${path} ${status} ${(Number(ns) / 1e6).toFixed(1)} ms`,
      );
    if (context) flowContext.run(context, write);
    else write();
  };
}

/**
 * The access line alone, without IDs or context: what runs with LOG_CONTEXT=false, so that
 * the benchmark measures the context and its stamping, not the access log.
 */
export function accessLogMiddleware(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const access = accessLine(logger, req, res, process.hrtime.bigint());
    res.once('finish', access);
    res.once('close', access);
    next();
  };
}
