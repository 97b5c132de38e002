import { TaskSettings } from './tasks.settings';

/**
 * The process environment, typed and validated once at boot by {@link loadConfig}.
 * Each property is named after its environment variable; README.md#configuration lists them.
 *
 * Declared in sections, one file each, each class extending the one before (class-validator
 * reads decorators along the class chain): `server.settings.ts` (HTTP), `redis.settings.ts`,
 * `logs.settings.ts` (log lines, shipping, traces), `limits.settings.ts` (keys, rate limits,
 * quotas, task costs), `tasks.settings.ts` (tasks and workers). A new variable goes in its
 * section, with a doc comment giving its default, and a row in README.md's table.
 */
export class AppConfig extends TaskSettings {}
