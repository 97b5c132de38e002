import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { type ELDHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

/** Seconds in one window of the event-loop delay figures. */
export const EVENT_LOOP_WINDOW_S = 10;

/** Event-loop delay over one window, in milliseconds. */
export interface LoopDelay {
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

/**
 * How long the API's event loop was kept from running (Node's `monitorEventLoopDelay`), in
 * windows of EVENT_LOOP_WINDOW_S (the window running now and the one before) and since the
 * process started. A request that hogs the loop shows here before it shows anywhere else, so
 * `/health` reports it.
 * @see https://nodejs.org/api/perf_hooks.html#perf_hooksmonitoreventloopdelayoptions
 */
@Injectable()
export class EventLoopMonitor implements OnModuleInit, OnModuleDestroy {
  private readonly histogram: ELDHistogram = monitorEventLoopDelay({ resolution: 10 });
  /** The same, never reset: the delay over the process's whole life. */
  private readonly sinceStart: ELDHistogram = monitorEventLoopDelay({ resolution: 10 });
  private previous: LoopDelay | undefined;
  private timer: NodeJS.Timeout | undefined;

  onModuleInit(): void {
    this.histogram.enable();
    this.sinceStart.enable();
    this.timer = setInterval(() => {
      this.previous = summary(this.histogram);
      this.histogram.reset();
    }, EVENT_LOOP_WINDOW_S * 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.histogram.disable();
    this.sinceStart.disable();
  }

  status(): {
    window_s: number;
    current: LoopDelay;
    previous?: LoopDelay;
    since_start: LoopDelay;
  } {
    return {
      window_s: EVENT_LOOP_WINDOW_S,
      current: summary(this.histogram),
      ...(this.previous ? { previous: this.previous } : {}),
      since_start: summary(this.sinceStart),
    };
  }
}

function summary(histogram: ELDHistogram): LoopDelay {
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
  if (histogram.count === 0) return { p50_ms: 0, p99_ms: 0, max_ms: 0 };
  return {
    p50_ms: ms(histogram.percentile(50)),
    p99_ms: ms(histogram.percentile(99)),
    max_ms: ms(histogram.max),
  };
}
