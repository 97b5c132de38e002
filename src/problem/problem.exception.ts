import { HttpException } from '@nestjs/common';

/** Fields of an RFC 9457 problem document beyond `status`. */
export interface ProblemFields {
  /** Short, stable summary of the problem type. */
  title: string;
  /** What happened in this case and what the client can do about it. */
  detail: string;
  /** URI naming the problem type. Default: `about:blank`. */
  type?: string;
  /** Extra members, e.g. the failing checks of a readiness probe. */
  extensions?: Record<string, unknown>;
  /** Response headers to add, e.g. `Retry-After`. */
  headers?: Record<string, string>;
}

/**
 * An HTTP error that renders as `application/problem+json`.
 * @see https://www.rfc-editor.org/rfc/rfc9457
 */
export class ProblemException extends HttpException {
  constructor(
    status: number,
    readonly problem: ProblemFields,
  ) {
    super(problem.detail, status);
    this.name = this.constructor.name;
  }
}
