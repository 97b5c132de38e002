import type { INestApplicationContext } from '@nestjs/common';

/**
 * On SIGTERM or SIGINT: closes the application (its shutdown hooks: a worker finishes or hands
 * back its tasks), then exits normally, so that the log transport gets to write its last lines
 * to stdout and the spool. Nest's own `enableShutdownHooks` re-raises the signal instead, and a
 * process killed by a signal runs no exit handlers: its last lines would be lost.
 */
export function closeOnSignals(app: INestApplicationContext): void {
  let closing = false;
  const close = (): void => {
    if (closing) return;
    closing = true;
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(
          `shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`,
        );
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', close);
  process.on('SIGINT', close);
}
