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
  QUOTA_BYTES_PER_CLIENT: 'bytes in Redis (queued input, and results kept for RESULT_TTL_S)',
};

/**
 * The answer to a refused claim: 429 while the client's own unfinished tasks fill the quota
 * (they finish, and it frees), 422 when this one submission alone is larger than the quota.
 */
export function quotaProblem(
  decision: Extract<QuotaDecision, { granted: false }>,
  client: string,
): ProblemException {
  const { quota, used, limit, asked, shards, overall } = decision;
  const unit = UNITS[quota];
  const extensions = { quota, limit, used, requested: asked, ...(shards > 1 ? { shards } : {}) };
  // With shards, each holds a share of the limit beside the tasks it counts.
  const allows =
    shards > 1
      ? `${quota} (${overall}) allows ${limit} on each of the ${shards} shards (REDIS_SHARDS) it is split over`
      : `${quota} allows ${limit}`;
  if (asked > limit) {
    return new ProblemException(HttpStatus.UNPROCESSABLE_ENTITY, {
      title: 'Submission larger than the quota',
      detail: `This submission alone needs ${asked} ${unit}, more than ${shards > 1 ? allows : `${quota} (${limit}) allows any client`}; split it into smaller submissions.`,
      extensions,
    });
  }
  return new ProblemException(HttpStatus.TOO_MANY_REQUESTS, {
    title: 'Quota exceeded',
    detail: `${capitalise(describeClient(client))} holds ${used} ${unit}${shards > 1 ? ' on this shard' : ''}; this submission needs ${asked} more, and ${allows}. ${quota === 'QUOTA_BYTES_PER_CLIENT' ? 'Retry once some of its tasks have finished and their results expired, or cancel queued ones' : 'Retry once some of its tasks have finished, or cancel queued ones'} (retry in ${QUOTA_RETRY_AFTER_S} s at the soonest).`,
    extensions,
    headers: { 'Retry-After': String(QUOTA_RETRY_AFTER_S) },
  });
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
