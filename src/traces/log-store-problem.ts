import { HttpStatus } from '@nestjs/common';
import { ProblemException } from '../problem/problem.exception';
import { TraceUnavailableError } from './log-search-connection';

/**
 * What the API answers for an error of a log search: Elasticsearch not answering is a 503 with
 * Retry-After (the trace and flow routes say so alike); any other error is returned as it is.
 */
export function logStoreProblem(error: unknown): unknown {
  if (!(error instanceof TraceUnavailableError)) return error;
  return new ProblemException(HttpStatus.SERVICE_UNAVAILABLE, {
    title: 'Log store unavailable',
    detail: `${error.message}. Retry later.`,
    headers: { 'Retry-After': '5' },
  });
}
