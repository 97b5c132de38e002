/** One reason a task's input cannot be run, located by a JSON pointer into the request body. */
export interface InputProblem {
  pointer: string;
  detail: string;
}

/**
 * The task's `data` is well-formed JSON but not something its type can run (HTTP 422).
 * A worker that meets it fails the task at once, without retrying.
 */
export class TaskDataError extends Error {
  override readonly name = this.constructor.name;

  constructor(readonly problems: readonly InputProblem[]) {
    super(problems.map((p) => `${p.pointer}: ${p.detail}`).join('; '));
  }
}
