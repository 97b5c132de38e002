import { createHash, timingSafeEqual } from 'node:crypto';

/** An API key as the server keeps it: the name of its holder and the key's SHA-256. */
export interface ApiKey {
  name: string;
  digest: Buffer;
}

/** `name:key` pairs, comma-separated: names of 1-64 [a-z0-9_-], keys of 24+ [A-Za-z0-9_-]. */
export const API_KEYS_PATTERN =
  /^$|^[a-z0-9_-]{1,64}:[A-Za-z0-9_-]{24,256}(,[a-z0-9_-]{1,64}:[A-Za-z0-9_-]{24,256})*$/;

const digest = (key: string): Buffer => createHash('sha256').update(key).digest();

/** The keys of an API_KEYS value (already checked against {@link API_KEYS_PATTERN}). */
export function parseApiKeys(value: string): ApiKey[] {
  if (value === '') return [];
  return value.split(',').map((pair) => {
    const at = pair.indexOf(':');
    return { name: pair.slice(0, at), digest: digest(pair.slice(at + 1)) };
  });
}

/**
 * The name of the holder of `presented`, or undefined when it is no key of `keys`. Compares
 * digests in constant time, and every key, so that the time taken tells nothing about a key.
 */
export function holderOf(keys: readonly ApiKey[], presented: string): string | undefined {
  const candidate = digest(presented);
  let holder: string | undefined;
  for (const key of keys) {
    if (timingSafeEqual(key.digest, candidate) && holder === undefined) holder = key.name;
  }
  return holder;
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
