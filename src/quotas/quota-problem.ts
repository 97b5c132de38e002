import { HttpStatus } from '@nestjs/common';
import { ProblemException } from '../problem/problem.exception';
import type { QuotaDecision } from './quota.repository';

/** What a client over its quota is told to wait before trying again, in seconds. */
export const QUOTA_RETRY_AFTER_S = 5;

/** A client in words: `API key "alice"`, or `client address 10.0.0.7`. */
export function describeClient(client: string): string {
  if (client.startsWith('key:')) return `API key "${client.slice(4)}"`;
  return `client address ${client.replace(/^addr:/, '')}`;
}

const UNITS = {
  QUOTA_TASKS_PER_CLIENT: 'unfinished tasks',
  QUOTA_BYTES_PER_CLIENT: 'bytes of queued input',
};

/**
 * The answer to a refused claim: 429 while the client's own unfinished tasks fill the quota
 * (they finish, and it frees), 422 when this one submission alone is larger than the quota.
 */
export function quotaProblem(
  decision: Extract<QuotaDecision, { granted: false }>,
  client: string,
): ProblemException {
  const { quota, used, limit, asked } = decision;
  const unit = UNITS[quota];
  const extensions = { quota, limit, used, requested: asked };
  if (asked > limit) {
    return new ProblemException(HttpStatus.UNPROCESSABLE_ENTITY, {
      title: 'Submission larger than the quota',
      detail: `This submission alone needs ${asked} ${unit}, more than ${quota} (${limit}) allows any client; split it into smaller submissions.`,
      extensions,
    });
  }
  return new ProblemException(HttpStatus.TOO_MANY_REQUESTS, {
    title: 'Quota exceeded',
    detail: `${capitalise(describeClient(client))} holds ${used} ${unit}; this submission needs ${asked} more, and ${quota} allows ${limit}. Retry once some of its tasks have finished (in ${QUOTA_RETRY_AFTER_S} s), or cancel queued ones.`,
    extensions,
    headers: { 'Retry-After': String(QUOTA_RETRY_AFTER_S) },
  });
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
