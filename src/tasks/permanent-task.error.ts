/**
 * A task failure that retrying cannot mend (bad input found while running, an overrun, a
 * result that cannot be given): the worker fails the task at once, without its remaining
 * attempts. Any other error a handler throws is retried with backoff.
 * @see docs/tasks.md#adding-a-type
 */
export class PermanentTaskError extends Error {
  override readonly name = this.constructor.name;
}
