import { fail, ScriptError } from './say.mts';

/** Runs a script's main function, printing failures as one line and a fix, never a stack. */
export function runMain(main: () => Promise<number | void>): void {
  main().then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (error: unknown) => {
      if (error instanceof ScriptError) fail(error.topic, error.message, error.fix);
      else fail('error', error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exitCode = 1;
    },
  );
}
