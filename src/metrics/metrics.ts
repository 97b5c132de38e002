import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { LogShippingStatus } from '../logging/log-transport-handle';
import type { ShippingSnapshot } from '../logging/shipping/shipping-stats';
import { CounterFamily, HistogramFamily, type HistogramSeries } from './series';

/** Seconds: from a few ms (a cache hit) to minutes (a task's run, a backlog's wait). */
const TASK_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** Seconds: an HTTP answer is expected in milliseconds; a trace search may take a second. */
const HTTP_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** What ended an attempt of a task. */
export type TaskOutcome = 'completed' | 'failed' | 'retried';

const TASK_LABELS = ['type', 'queue'] as const;

/** The shipper's counters as metrics: name, help, and the snapshot field each reads. */
const SHIPPING_COUNTERS = [
  ['accepted', 'Log lines written to the spool.'],
  ['shipped', 'Log lines Elasticsearch stored.'],
  ['duplicates', 'Log lines Elasticsearch already had on a resend: delivered, not stored twice.'],
  ['replayed', 'Log lines delivered after waiting out an outage or a restart.'],
  ['dead_lettered', 'Log lines Elasticsearch refused for good, kept in the dead-letter file.'],
  ['dropped', 'Log lines not spooled: the spool was at its bound, or the disk refused them.'],
  ['failed_attempts', 'Failed delivery attempts to Elasticsearch.'],
] as const satisfies readonly (readonly [keyof ShippingSnapshot, string])[];

/** What waits in the spool, as gauges. */
const SPOOL_GAUGES = [
  [
    'threadline_log_spool_bytes',
    'spool_bytes',
    'Bytes of log lines in the spool, not yet delivered.',
  ],
  ['threadline_log_spool_lines', 'spooled', 'Log lines in the spool, not yet delivered.'],
] as const satisfies readonly (readonly [string, keyof ShippingSnapshot, string])[];

/**
 * The process's Prometheus metrics (prom-client, on a registry of its own): what Threadline
 * counts and times, and Node's process metrics (CPU, memory, event-loop delay, handles). The
 * API and the workers each serve theirs at `GET /metrics`; which metric comes from which is in
 * docs/metrics.md. With METRICS off every method does nothing.
 */
export class Metrics {
  readonly registry = new Registry();
  // Counted on the hot paths (a request, a task): series of our own (src/metrics/series.ts).
  private readonly http = new HistogramFamily(
    'threadline_http_request_duration_seconds',
    'Time from a request arriving to its response finishing, by route template and status.',
    ['method', 'route', 'status_code'],
    HTTP_BUCKETS_S,
  );
  private readonly submitted = new CounterFamily(
    'threadline_tasks_submitted_total',
    'Tasks queued by the API (a batch counts its parent and each child).',
    TASK_LABELS,
  );
  private readonly started = new CounterFamily(
    'threadline_tasks_started_total',
    'Attempts of tasks a worker started.',
    TASK_LABELS,
  );
  private readonly ended = new CounterFamily(
    'threadline_tasks_ended_total',
    'Attempts of tasks that ended: completed, retried (will run again) or failed (for good).',
    [...TASK_LABELS, 'outcome'],
  );
  private readonly stalledTasks = new CounterFamily(
    'threadline_tasks_stalled_total',
    "Tasks put back in their queue because their worker stopped answering (seen by this worker's stalled check).",
    ['queue'],
  );
  private readonly queueWait = new HistogramFamily(
    'threadline_task_queue_wait_seconds',
    "Time from a task's submission to its first attempt's start.",
    TASK_LABELS,
    TASK_BUCKETS_S,
  );
  private readonly runTime = new HistogramFamily(
    'threadline_task_run_seconds',
    'Time one attempt of a task ran, by how it ended.',
    [...TASK_LABELS, 'outcome'],
    TASK_BUCKETS_S,
  );
  private readonly families = [
    this.http,
    this.submitted,
    this.started,
    this.ended,
    this.stalledTasks,
    this.queueWait,
    this.runTime,
  ];
  /** HTTP series by method, status and route, so that a request costs one map lookup. */
  private readonly httpSeries = new Map<string, HistogramSeries>();

  constructor(
    readonly enabled: boolean,
    /** The log shipper's counters, read at scrape time. */
    shipping: () => LogShippingStatus,
  ) {
    this.shippingMetrics(shipping);
    // Their event-loop monitor and GC observer cost something: only when metrics are on.
    if (enabled) collectDefaultMetrics({ register: this.registry });
  }

  /** An HTTP request's response finished (or its client went away: status 499). */
  httpRequest(method: string, route: string, status: number, seconds: number): void {
    if (!this.enabled) return;
    const key = `${method} ${status} ${route}`;
    let series = this.httpSeries.get(key);
    if (!series) {
      series = this.http.of({ method, route, status_code: status });
      this.httpSeries.set(key, series);
    }
    series.observe(seconds);
  }

  /** `count` tasks of `type` were queued on `queue`. */
  taskSubmitted(type: string, queue: string, count = 1): void {
    if (this.enabled) this.submitted.of({ type, queue }).inc(count);
  }

  /** A worker started an attempt; `waitS` is the queue wait of a first attempt. */
  taskStarted(type: string, queue: string, waitS: number | undefined): void {
    if (!this.enabled) return;
    this.started.of({ type, queue }).inc();
    if (waitS !== undefined) this.queueWait.of({ type, queue }).observe(waitS);
  }

  /** An attempt ended after running `runS` seconds. */
  taskEnded(type: string, queue: string, outcome: TaskOutcome, runS: number): void {
    if (!this.enabled) return;
    this.ended.of({ type, queue, outcome }).inc();
    this.runTime.of({ type, queue, outcome }).observe(runS);
  }

  /** A task of `queue` was put back because its worker stopped. */
  taskStalled(queue: string): void {
    if (this.enabled) this.stalledTasks.of({ queue }).inc();
  }

  /**
   * A gauge read when scraped: `read` sets its values (and may take a moment, e.g. ask Redis).
   * What a failed read leaves out is missing from that scrape, not stale.
   */
  gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: (gauge: Gauge<L>) => Promise<void> | void,
  ): void {
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        await read(this);
      },
    });
  }

  /** The Prometheus text exposition of every metric. */
  async render(): Promise<string> {
    const own = this.families.map((family) => family.render()).join('');
    return own + (await this.registry.metrics());
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The shipper's counters and spool size, read from the memory it shares with its thread. */
  private shippingMetrics(shipping: () => LogShippingStatus): void {
    const registers = [this.registry];
    for (const [field, help] of SHIPPING_COUNTERS) {
      new Counter({
        name: `threadline_log_lines_${field}_total`,
        help,
        registers,
        collect() {
          const status = shipping();
          this.reset();
          if (status.enabled) this.inc(status[field]);
        },
      });
    }
    for (const [name, field, help] of SPOOL_GAUGES) {
      this.gauge(name, help, [], (gauge) => {
        const status = shipping();
        if (status.enabled) gauge.set(status[field]);
      });
    }
  }
}
