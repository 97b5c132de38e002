import { type ApiKey, keyOf, presentedKey } from '../auth/api-keys';

/** Why a scrape is refused, as an HTTP status and a message that names the fix. */
export interface ScrapeRefusal {
  status: 401 | 403;
  detail: string;
}

/**
 * Whether a scrape presenting these headers may read the metrics: with API keys on (`keys`
 * not empty) only a key with the admin grant may, as Prometheus sends it (`authorization:`
 * `credentials` in its scrape config gives `Authorization: Bearer <key>`).
 * @returns undefined when allowed, else why not
 */
export function scrapeRefusal(
  keys: readonly ApiKey[],
  authorization: string | undefined,
  apiKeyHeader: string | string[] | undefined,
): ScrapeRefusal | undefined {
  if (keys.length === 0) return undefined;
  const presented = presentedKey(authorization, apiKeyHeader);
  const key = presented === undefined ? undefined : keyOf(keys, presented);
  if (!key) {
    return {
      status: 401,
      detail:
        'Metrics need an API key with the admin grant (API_KEYS name:key:admin): send it as Authorization: Bearer <key>.',
    };
  }
  if (!key.grants.includes('admin')) {
    return {
      status: 403,
      detail: `The API key "${key.name}" has no admin grant, which metrics need: scrape with a key listed in API_KEYS as name:key:admin.`,
    };
  }
  return undefined;
}
