/**
 * Redis did not answer in time or is disconnected. The HTTP layer turns it into
 * 503 Service Unavailable with `Retry-After`; nothing was written.
 */
export class RedisUnavailableError extends Error {
  override readonly name = this.constructor.name;
}
