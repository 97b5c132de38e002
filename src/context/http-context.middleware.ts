import type { NextFunction, Request, Response } from 'express';
import { ServerResponse } from 'node:http';
import { type FlowContext, flowContext } from './flow-context';
import { flowHeaders, type TraceContext } from './flow-fields';
import { SpanKind } from '@opentelemetry/api';
import { continueTrace, idProblem, inboundTracestate, newId } from './ids';
import { activeTrace, type HopSpan, startHopSpan } from './otel';
import { routeOf } from './route-of';

/** Where the middleware says that an inbound ID was replaced: the process's logger. */
export interface ReplacedIdWarnings {
  warn(fields: Record<string, unknown>, message: string): void;
}

/**
 * The HTTP edge of correlation, first in the middleware chain: takes valid inbound IDs or
 * makes new ones, runs the rest of the request inside the flow context, and answers with the
 * flow's IDs (errors included). An invalid inbound ID is replaced and a line says so, without
 * ever writing its value.
 */
export function httpContextMiddleware(log: ReplacedIdWarnings) {
  return (req: Request, res: Response, next: NextFunction): void => {
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
    const continued = continueTrace(typeof inbound === 'string' ? inbound : undefined);
    if (inbound !== undefined && !continued.valid) {
      replaced.push({ header: 'traceparent', reason: 'it is not a valid W3C traceparent' });
    }
    const hop = otelHop(req, continued.trace, continued.valid);

    const context: FlowContext = {
      request_id,
      correlation_id,
      trace: hop.trace,
      ...(hop.tracestate === undefined ? {} : { tracestate: hop.tracestate }),
      client: `addr:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`,
    };
    const span = hop.span;
    if (span) {
      let ended = false;
      const end = (): void => {
        if (ended) return;
        ended = true;
        const status = res.headersSent ? res.statusCode : 499;
        const route = routeOf(req);
        span.end({
          name: route === 'unmatched' ? req.method : `${req.method} ${route}`,
          attributes: {
            'http.response.status_code': status,
            ...(route === 'unmatched' ? {} : { 'http.route': route }),
          },
          ...(status >= 500 ? { error: `HTTP ${status}` } : {}),
        });
      };
      res.once('finish', end);
      res.once('close', end);
    }
    // Written as the response's headers go out: by then a request about a task has joined
    // that task's flow (its correlation_id and task_id), whichever layer answers.
    beforeHeaders(res, () => {
      for (const [name, value] of flowHeaders(context)) res.setHeader(name, value);
    });

    flowContext.run(context, () => {
      for (const { header, reason } of replaced) {
        log.warn(
          { 'event.action': 'id-replaced', 'request.replaced_header': header },
          `inbound ${header} was invalid (${reason}); replaced by a generated one`,
        );
      }
      if (span) span.run(next);
      else next();
    });
  };
}

/**
 * This request's trace when the host process has an OpenTelemetry SDK: the span it has active
 * (an HTTP instrumentation's), else a server span of Threadline's own; without an SDK, the span
 * Threadline made (`trace`), continuing a valid inbound traceparent. The tracestate of a
 * continued trace is passed on.
 */
function otelHop(
  req: Request,
  trace: TraceContext,
  continued: boolean,
): { trace: TraceContext; tracestate: string | undefined; span?: HopSpan } {
  const tracestate = continued ? inboundTracestate(req.headers.tracestate) : undefined;
  const active = activeTrace();
  if (active) {
    // The caller's span is the parent, and its tracestate the trace's, only when the host's
    // span continued the caller's trace; the host span's own tracestate comes first.
    const same = continued && active.trace_id === trace.trace_id;
    const { tracestate: own, ...ids } = active;
    return {
      trace: {
        ...ids,
        ...(same && trace.parent_span_id !== undefined
          ? { parent_span_id: trace.parent_span_id }
          : {}),
      },
      tracestate: own ?? (same ? tracestate : undefined),
    };
  }
  const span = startHopSpan(req.method, SpanKind.SERVER, trace, tracestate, {
    'http.request.method': req.method,
    'url.path': req.path,
  });
  return span ? { trace: span.trace, tracestate: span.tracestate, span } : { trace, tracestate };
}

/** Where a response keeps what {@link beforeHeaders} must run as its headers go out. */
const BEFORE_HEADERS = Symbol('threadline.beforeHeaders');

type HookedResponse = ServerResponse & { [BEFORE_HEADERS]?: () => void };

let hooked = false;

/**
 * Calls `fn` just before the response's status line and headers are written, however they
 * are: Node writes every response's headers through `writeHead`. The `on-headers` package
 * (Express's own middleware) gives each response an own `writeHead`; measured under the
 * submit load, that cost about 55 MB of peak RSS over 15,000 submits, so
 * `ServerResponse.prototype.writeHead` is wrapped once instead, and a response only holds
 * its `fn`.
 */
function beforeHeaders(res: ServerResponse, fn: () => void): void {
  if (!hooked) {
    hooked = true;
    const writeHead = Reflect.get(ServerResponse.prototype, 'writeHead') as (
      this: ServerResponse,
      ...args: unknown[]
    ) => ServerResponse;
    ServerResponse.prototype.writeHead = function (this: HookedResponse, ...args: unknown[]) {
      const before = this[BEFORE_HEADERS];
      if (before !== undefined) {
        this[BEFORE_HEADERS] = undefined;
        before();
      }
      return writeHead.apply(this, args);
    } as ServerResponse['writeHead'];
  }
  (res as HookedResponse)[BEFORE_HEADERS] = fn;
}
