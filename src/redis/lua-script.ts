import { createHash } from 'node:crypto';

/**
 * A Lua script, run by its SHA1 (EVALSHA): its text goes to Redis only when Redis does not
 * have it yet (after a restart, a failover, SCRIPT FLUSH), not with every call as EVAL sends it.
 * @see https://redis.io/docs/latest/develop/interact/programmability/eval-intro/#script-cache
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }
}

/** Redis's answer to EVALSHA for a script it does not hold. */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
