// The syntax of the API_KEYS setting, and the grants it may give a key: config validates the
// setting against it at boot, and src/auth reads the keys it allows.

/**
 * What a key may do beyond submitting, reading and cancelling its own tasks:
 * - `high`: submit to the `high` queue;
 * - `admin`: see the workers' hosts and pids in `GET /api/v1/queues`.
 */
export const GRANTS = ['high', 'admin'] as const;
export type Grant = (typeof GRANTS)[number];

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
  'must be name:key[:grant[+grant]] entries separated by commas: names of a-z 0-9 _ -, keys of 24+ characters [A-Za-z0-9_-], grants high (may use the high queue) and admin (sees worker hosts and pids, reads /metrics), e.g. API_KEYS=alice:$(openssl rand -hex 24):high+admin,reporting:$(openssl rand -hex 24)';
