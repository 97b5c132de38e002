import { Matches } from 'class-validator';
import { API_KEYS_PATTERN, API_KEYS_RULE } from './api-keys.setting';
import { IntRange } from './int-range.decorator';
import { LogSettings } from './logs.settings';

/** What a client may do: API keys, rate limits, quotas, and what one task may cost (docs/security.md). One section of `AppConfig`, which callers use. */
export class LimitSettings extends LogSettings {
  /**
   * API keys, as comma-separated `name:key[:grant[+grant]]` entries (names of a-z, 0-9, _ and
   * -; keys of 24 or more letters, digits, _ and -; grants `high`, to submit to the high queue,
   * and `admin`, to see the workers' hosts and pids). When set, every request under `/api/v1`
   * needs `Authorization: Bearer <key>` (or `X-API-Key`), and a key sees only its own tasks and
   * traces. Default: unset (no keys, everything allowed: for local use).
   * @see docs/security.md#api-keys
   */
  @Matches(API_KEYS_PATTERN, { message: API_KEYS_RULE })
  API_KEYS = '';

  /**
   * Requests each API key may make in any 60 seconds (a sliding window, when API_KEYS is set);
   * then 429. Redis keeps one entry per counted request, so the bound also bounds its memory.
   * Default: `600`.
   * @see docs/security.md#rate-limits
   */
  @IntRange(1, 100_000, 'requests per minute')
  RATE_LIMIT_PER_MINUTE = 600;

  /**
   * Requests without a valid API key (401) one client address may make in any 60 seconds (when
   * API_KEYS is set); beyond it every request from that address gets 429 until the window has
   * room, so that keys cannot be guessed at speed. Default: `20`.
   * @see docs/security.md#rate-limits
   */
  @IntRange(1, 10_000, 'failed authentications per minute', 'AUTH_FAILURES_PER_MINUTE=20')
  AUTH_FAILURES_PER_MINUTE = 20;

  /**
   * Most unfinished tasks (queued or running, a batch's children included) one client may
   * have: an API key, or a client address when API_KEYS is unset. Beyond it a submit answers
   * 429. Default: `1000`.
   * @see docs/security.md#quotas
   */
  @IntRange(1, 1_000_000, 'tasks')
  QUOTA_TASKS_PER_CLIENT = 1000;

  /**
   * Most bytes one client may keep in Redis: the input of its unfinished tasks, and what its
   * finished tasks keep (result, record) until RESULT_TTL_S. Beyond it a submit answers 429.
   * Default: 256 MiB (about 250,000 finished tasks within RESULT_TTL_S).
   */
  @IntRange(1024, Infinity, 'bytes')
  QUOTA_BYTES_PER_CLIENT = 256 * 1024 * 1024;

  /**
   * Most work one `calculate_var` task (or one portfolio of a `batch_var`) may declare, in
   * multiply-adds: assets³ + simulations × assets² (docs/tasks.md#cost-limits); more is a 422.
   * About 10 s on one core. Default: `10000000000` (1e10: 200 assets × 250,000 simulations).
   */
  @IntRange(1_000_000, 1e15, 'operations')
  TASK_VAR_MAX_OPERATIONS = 10_000_000_000;

  /** Most work one `batch_var` may declare, summed over its portfolios, in multiply-adds. Default: `100000000000` (1e11). */
  @IntRange(1_000_000, 1e16, 'operations')
  TASK_BATCH_MAX_OPERATIONS = 100_000_000_000;

  /** Longest `delay_ms` an `echo` task may ask for: the time it holds a worker slot. Default: `60000`. */
  @IntRange(0, 600000, 'milliseconds')
  TASK_ECHO_MAX_DELAY_MS = 60000;

  /**
   * Longest a CPU-heavy task (`calculate_var`) may compute on its worker thread; past it the
   * thread is stopped and the task fails without retry, in ms. Default: `120000`.
   */
  @IntRange(100, 3600000, 'milliseconds')
  TASK_THREAD_TIMEOUT_MS = 120000;
}
