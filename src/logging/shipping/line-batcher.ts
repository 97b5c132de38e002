import type { DestinationStream } from 'pino';

/**
 * Hands lines to pino's transport thread a few milliseconds' worth at a time. Written line by
 * line, a busy process wakes that thread once per event-loop turn, and the wake-ups (a futex
 * call each, and a context switch on a small machine) cost the main thread more than the lines
 * do; `npm run bench -- --only ship` measures the difference.
 *
 * The price: a process killed with SIGKILL loses up to `delayMs` more of its last lines. On a
 * normal exit, or a crash, {@link flush} runs first (see LogShipping.start).
 */
export class LineBatcher implements DestinationStream {
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly target: DestinationStream,
    private readonly delayMs: number,
  ) {}

  write(line: string): void {
    this.pending.push(line);
    this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  /** Passes on what is pending now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const lines = this.pending.join('');
    this.pending = [];
    this.target.write(lines);
  }
}
