import type { DestinationStream } from 'pino';

/**
 * Hands lines to pino's transport thread a few milliseconds' worth at a time (a line after a
 * quiet spell goes at once, so that an idle process adds no delay). Written line by
 * line, a busy process wakes that thread once per event-loop turn, and the wake-ups (a futex
 * call each, and a context switch on a small machine) cost the main thread more than the lines
 * do; `npm run bench -- --only ship` measures the difference.
 *
 * The price: a process killed with SIGKILL loses up to `delayMs` more of its last lines. On a
 * normal exit, or a crash, {@link flush} runs first (see LogTransportHandle.start).
 */
export class LineBatcher implements DestinationStream {
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly target: DestinationStream,
    private readonly delayMs: number,
  ) {}

  /** A line after a quiet spell goes at once; lines close behind it wait for the window. */
  write(line: string): void {
    if (this.timer) {
      this.pending.push(line);
      return;
    }
    this.target.write(line);
    this.openWindow();
  }

  /** Passes on what is pending now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const lines = this.pending.join('');
    this.pending = [];
    this.target.write(lines);
    // Busy: keep collecting for another window.
    this.openWindow();
  }

  private openWindow(): void {
    this.timer = setTimeout(() => this.flush(), this.delayMs);
    this.timer.unref();
  }
}
