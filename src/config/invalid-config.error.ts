/** One environment variable that failed validation, and the form it should take. */
export interface ConfigProblem {
  variable: string;
  expected: string;
}

/**
 * Thrown at boot when the environment does not describe a runnable process.
 * Its message lists every bad variable at once, so one restart is enough to fix them all.
 */
export class InvalidConfigError extends Error {
  override readonly name = this.constructor.name;

  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      [
        `Threadline cannot start: ${problems.length} environment variable(s) are invalid.`,
        ...problems.map((p) => `  - ${p.variable}: ${p.expected}`),
        'Fix or unset them (unset variables take their defaults; see README.md#configuration).',
      ].join('\n'),
    );
  }
}
