import { HttpStatus } from '@nestjs/common';
import { flowContext } from '../context/flow-context';
import { ProblemException } from '../problem/problem.exception';
import type { Grant } from './api-keys';

/** The rule a 403 for the high queue names. */
export const HIGH_QUEUE_RULE = 'the high queue is granted per key in API_KEYS: name:key:high';

/**
 * Whether the current flow's API key holds `grant`. With API keys off (`keysOn` false)
 * everything is granted: that is local use.
 */
export function isGranted(keysOn: boolean, grant: Grant): boolean {
  if (!keysOn) return true;
  return flowContext.get()?.grants?.includes(grant) === true;
}

/** 403 unless the current key may submit to the high queue. */
export function requireHighQueue(keysOn: boolean): void {
  if (isGranted(keysOn, 'high')) return;
  throw new ProblemException(HttpStatus.FORBIDDEN, {
    title: 'Forbidden',
    detail: `This API key may not submit to the high queue: ${HIGH_QUEUE_RULE}. Submit to medium or low, or ask for a key with the high grant.`,
  });
}
