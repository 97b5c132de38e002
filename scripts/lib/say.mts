// Progress and error lines for people, on stderr, coloured only on a terminal.

const colour = process.stderr.isTTY && !process.env.NO_COLOR;
const paint = (code: number, text: string): string =>
  colour ? `\u001b[${code}m${text}\u001b[0m` : text;

export const bold = (text: string): string => paint(1, text);
export const dim = (text: string): string => paint(2, text);

/** One progress line about `topic`, e.g. `say('redis', 'started')`. */
export function say(topic: string, message: string): void {
  process.stderr.write(`${paint(36, `[${topic}]`)} ${message}\n`);
}

/** One error line; `fix` tells the reader what to do about it. */
export function fail(topic: string, message: string, fix?: string): void {
  process.stderr.write(`${paint(31, `[${topic}]`)} ${message}\n`);
  if (fix) process.stderr.write(`${paint(33, '  fix:')} ${fix}\n`);
}

/** Raised by the scripts for failures a person can fix; main() prints it without a stack. */
export class ScriptError extends Error {
  override readonly name = 'ScriptError';
  readonly topic: string;
  readonly fix: string | undefined;

  constructor(topic: string, message: string, fix?: string) {
    super(message);
    this.topic = topic;
    this.fix = fix;
  }
}
