/** Writes `text` to stdout as it is: what the CLI prints for a program or a person to read. */
export const out = (text: string): void => void process.stdout.write(text);

/** Writes `text` and a newline to stderr: messages about the run, never its result. */
export const err = (text: string): void => void process.stderr.write(`${text}\n`);
