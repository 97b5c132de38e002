import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * What a key may do beyond submitting, reading and cancelling its own tasks:
 * - `high`: submit to the `high` queue;
 * - `admin`: see the workers' hosts and pids in `GET /api/v1/queues`.
 */
export const GRANTS = ['high', 'admin'] as const;
export type Grant = (typeof GRANTS)[number];

/** An API key as the server keeps it: its holder's name, the key's SHA-256 and its grants. */
export interface ApiKey {
  name: string;
  digest: Buffer;
  grants: readonly Grant[];
}

const NAME = '[a-z0-9_-]{1,64}';
const KEY = '[A-Za-z0-9_-]{24,256}';
const GRANT_LIST = `(${GRANTS.join('|')})(\\+(${GRANTS.join('|')}))*`;
const ENTRY = `${NAME}:${KEY}(:${GRANT_LIST})?`;

/**
 * `name:key[:grant[+grant...]]` entries, comma-separated: names of 1-64 [a-z0-9_-], keys of
 * 24+ [A-Za-z0-9_-], grants from {@link GRANTS}. `name:key` alone (no grants) stays valid.
 */
export const API_KEYS_PATTERN = new RegExp(`^$|^${ENTRY}(,${ENTRY})*$`);

/** The configuration error for a bad API_KEYS, with an example of every part. */
export const API_KEYS_RULE =
  'must be name:key[:grant[+grant]] entries separated by commas: names of a-z 0-9 _ -, keys of 24+ characters [A-Za-z0-9_-], grants high (may use the high queue) and admin (sees worker hosts and pids), e.g. API_KEYS=alice:$(openssl rand -hex 24):high+admin,reporting:$(openssl rand -hex 24)';

const digest = (key: string): Buffer => createHash('sha256').update(key).digest();

/** The keys of an API_KEYS value (already checked against {@link API_KEYS_PATTERN}). */
export function parseApiKeys(value: string): ApiKey[] {
  if (value === '') return [];
  return value.split(',').map((entry) => {
    const [name, key, grants] = entry.split(':');
    return {
      name,
      digest: digest(key),
      grants: grants ? [...new Set(grants.split('+') as Grant[])] : [],
    };
  });
}

/**
 * The key of `keys` that `presented` is, or undefined when it is none. Compares digests in
 * constant time, and every key, so that the time taken tells nothing about a key.
 */
export function keyOf(keys: readonly ApiKey[], presented: string): ApiKey | undefined {
  const candidate = digest(presented);
  let found: ApiKey | undefined;
  for (const key of keys) {
    if (timingSafeEqual(key.digest, candidate) && found === undefined) found = key;
  }
  return found;
}

/** The key a request presents: `Authorization: Bearer <key>`, or else `X-API-Key: <key>`. */
export function presentedKey(
  authorization: string | undefined,
  apiKeyHeader: string | string[] | undefined,
): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  if (bearer) return bearer;
  return typeof apiKeyHeader === 'string' && apiKeyHeader !== '' ? apiKeyHeader : undefined;
}
