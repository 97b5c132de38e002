/**
 * A bad option, argument or variable: nothing was asked. The CLI prints its message and the
 * usage, and exits 2 (EXIT.USAGE_ERROR); the message names the fix.
 */
export class UsageError extends Error {}
