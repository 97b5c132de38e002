/** Injection token of the shared ioredis client for request-time commands (fail-fast). */
export const REDIS = Symbol('REDIS');
