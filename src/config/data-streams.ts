/** The sources of log lines, each with a dataset (and a data stream) of its own. */
export const LOG_SOURCES = ['api', 'worker', 'nginx'] as const;
export type LogSource = (typeof LOG_SOURCES)[number];

/** What LOG_DATA_STREAM must look like: `logs-<name>-<namespace>`, as Elastic names streams. */
export const DATA_STREAM_PATTERN = /^logs-([a-z0-9_.]+)-([a-z0-9_.]+)$/;

/** The ECS fields that say which dataset and data stream a line belongs to. */
export interface DatasetFields {
  'event.dataset': string;
  'data_stream.type': 'logs';
  'data_stream.dataset': string;
  'data_stream.namespace': string;
}

/**
 * The data streams of one LOG_DATA_STREAM, after Elastic's naming scheme
 * (`<type>-<dataset>-<namespace>`): `logs-threadline-default` names the family, and each source
 * writes to a stream of its own, `logs-threadline.api-default`, `logs-threadline.worker-default`
 * and `logs-threadline.nginx-default`, whose lines carry the matching `event.dataset` and
 * `data_stream.*`. Searches read them all, and the family's own stream, where lines were written
 * before the sources had streams of their own.
 * @see docs/elasticsearch-layout.md
 * @see https://www.elastic.co/guide/en/ecs/current/ecs-data_stream.html
 */
export class LogStreams {
  /** The dataset prefix (`threadline`). */
  readonly name: string;
  readonly namespace: string;

  /** @param family LOG_DATA_STREAM, e.g. `logs-threadline-default` (checked at boot) */
  constructor(readonly family: string) {
    const m = DATA_STREAM_PATTERN.exec(family);
    if (!m) throw new Error(`${family} is not a data stream name like logs-threadline-default`);
    this.name = m[1];
    this.namespace = m[2];
  }

  /** The dataset of a source: `threadline.api`. */
  dataset(source: LogSource): string {
    return `${this.name}.${source}`;
  }

  /** The data stream a source's lines go to: `logs-threadline.api-default`. */
  stream(source: LogSource): string {
    return `logs-${this.dataset(source)}-${this.namespace}`;
  }

  /** The fields of a source's every line. */
  fields(source: LogSource): DatasetFields {
    const dataset = this.dataset(source);
    return {
      'event.dataset': dataset,
      'data_stream.type': 'logs',
      'data_stream.dataset': dataset,
      'data_stream.namespace': this.namespace,
    };
  }

  /**
   * Every source's stream, by name: not a wildcard, which would also match the streams of a
   * family whose name starts with this one's and a dot (`logs-threadline.staging-default`).
   */
  get streams(): string[] {
    return LOG_SOURCES.map((source) => this.stream(source));
  }

  /** The index template's patterns: every source's stream, and the family's own. */
  get patterns(): string[] {
    return [...this.streams, this.family];
  }

  /** What searches read: every source's stream, and the family's own (lines from before). */
  get searched(): string {
    return this.patterns.join(',');
  }

  /** How the streams are named for people: `logs-threadline.{api,worker,nginx}-default`. */
  get described(): string {
    return `logs-${this.name}.{${LOG_SOURCES.join(',')}}-${this.namespace}`;
  }

  /** The source whose dataset `dataset` is, if any. */
  sourceOf(dataset: string): LogSource | undefined {
    return LOG_SOURCES.find((source) => this.dataset(source) === dataset);
  }
}
