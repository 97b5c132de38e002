/** The URLs in a service address: one, or several separated by commas (the nodes of a cluster). */
export function listedUrls(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** A backing service the project can start on this machine when nothing answers at its URL. */
export interface LocalService {
  /** Short name used on the command line and in messages, e.g. `redis`. */
  readonly name: string;
  /** The environment variable holding its address. */
  readonly urlVariable: string;
  /** The address from the environment, or the default. */
  url(): string;
  /** True when a working instance answers at `url`. */
  answers(url: string): Promise<boolean>;
  /** Installs what is missing, starts an instance for `url` and waits until it answers; returns its pid. */
  start(url: string): Promise<StartedInstance>;
}

/** One process of a service that runs as several (the nodes of a local Elasticsearch cluster). */
export interface StartedNode {
  url: string;
  pid: number;
  logFile: string;
}

export interface StartedInstance {
  /** The process, or the first of several. */
  pid: number;
  logFile: string;
  /** Every process, when the instance is several (`url` listed several nodes). */
  nodes?: StartedNode[];
}
