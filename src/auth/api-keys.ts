import { createHash, timingSafeEqual } from 'node:crypto';
import type { Grant } from '../config/api-keys.setting';

/** An API key as the server keeps it: its holder's name, the key's SHA-256 and its grants. */
export interface ApiKey {
  name: string;
  digest: Buffer;
  grants: readonly Grant[];
}

const digest = (key: string): Buffer => createHash('sha256').update(key).digest();

/** The keys of an API_KEYS value (already checked against `API_KEYS_PATTERN` at boot). */
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
