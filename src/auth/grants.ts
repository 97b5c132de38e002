import { flowContext } from '../context/flow-context';
import type { ProblemFields } from '../problem/problem.exception';
import type { Grant } from '../config/api-keys.setting';

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

/** The 403 for a submission to the high queue by a key without the grant. */
export const HIGH_QUEUE_FORBIDDEN: ProblemFields = {
  title: 'Forbidden',
  detail: `This API key may not submit to the high queue: ${HIGH_QUEUE_RULE}. Submit to medium or low, or ask for a key with the high grant.`,
};
