import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { RedisUnavailableError } from '../redis/redis-unavailable.error';
import { ProblemException } from './problem.exception';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  [extension: string]: unknown;
}

/** Errors raised by Express middleware such as the JSON body parser. */
interface ExposedHttpError {
  status: number;
  expose: true;
  message: string;
  type?: string;
  limit?: number;
}

/** Seconds a client should wait before retrying while Redis is unavailable. */
const REDIS_RETRY_AFTER_S = 1;

function isExposedHttpError(error: unknown): error is ExposedHttpError {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as Record<string, unknown>;
  return typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose === true;
}

function bodyParserDetail(error: ExposedHttpError): string {
  if (error.type === 'entity.too.large') {
    return `The request body is larger than the ${error.limit ?? ''}-byte limit (BODY_LIMIT). Send less data, e.g. split a batch into several tasks.`;
  }
  if (error.type === 'entity.parse.failed') {
    return `The request body is not valid JSON: ${error.message}.`;
  }
  return error.message;
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  if (typeof message === 'string') return message;
  return exception.message;
}

/**
 * Renders every error as an RFC 9457 problem document. Client mistakes keep their 4xx status
 * and message; anything unexpected becomes a 500 whose body says nothing of the internals
 * (the stack trace goes to the log only).
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const problem = this.toProblem(exception, request.originalUrl);
    if (exception instanceof ProblemException) {
      for (const [name, value] of Object.entries(exception.problem.headers ?? {})) {
        response.setHeader(name, value);
      }
    }
    if (exception instanceof RedisUnavailableError) {
      response.setHeader('Retry-After', String(REDIS_RETRY_AFTER_S));
    }
    response.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  }

  private toProblem(exception: unknown, instance: string): ProblemDocument {
    if (exception instanceof ProblemException) {
      const { title, detail, type, extensions } = exception.problem;
      return {
        ...extensions,
        type: type ?? 'about:blank',
        title,
        status: exception.getStatus(),
        detail,
        instance,
      };
    }
    if (exception instanceof HttpException) {
      // Nest wraps Express's body-parser errors; their cause says what went wrong.
      const detail = isExposedHttpError(exception.cause)
        ? bodyParserDetail(exception.cause)
        : messageOf(exception);
      return this.plain(exception.getStatus(), detail, instance);
    }
    if (exception instanceof RedisUnavailableError) {
      return {
        type: 'about:blank',
        title: 'Service Unavailable',
        status: HttpStatus.SERVICE_UNAVAILABLE,
        detail: `The task store (Redis) is unavailable: ${exception.message}. The request may not have been applied; retry in ${REDIS_RETRY_AFTER_S} s, with an Idempotency-Key to be safe.`,
        instance,
      };
    }
    if (isExposedHttpError(exception)) {
      return this.plain(exception.status, bodyParserDetail(exception), instance);
    }
    this.logger.error(
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
    );
    return this.plain(
      HttpStatus.INTERNAL_SERVER_ERROR,
      'An unexpected error occurred on the server. It has been logged; retry later, and quote the X-Request-ID of this response if it persists.',
      instance,
    );
  }

  private plain(status: number, detail: string, instance: string): ProblemDocument {
    return {
      type: 'about:blank',
      title: STATUS_CODES[status] ?? 'Error',
      status,
      detail,
      instance,
    };
  }
}
