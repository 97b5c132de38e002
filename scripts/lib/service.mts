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
  start(url: string): Promise<{ pid: number; logFile: string }>;
}
