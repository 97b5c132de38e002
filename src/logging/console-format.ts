import type { DestinationStream } from 'pino';
import SonicBoom from 'sonic-boom';
import type { AppConfig } from '../config/app-config';
import { prettyLine } from './pretty-line';

/** How the process's lines look on stdout (plain data: the transport thread gets a copy). */
export interface ConsoleFormat {
  /** Pretty lines for a person instead of the JSON lines. */
  pretty: boolean;
  /** Coloured pretty lines. */
  colour: boolean;
}

/**
 * stdout's format: LOG_FORMAT, or, unset, pretty when stdout is a terminal and JSON when it is
 * piped (to a file, a log agent, `jq`). Colour only on a terminal, and never with NO_COLOR.
 * @see docs/logging.md#on-a-terminal
 */
export function consoleFormat(
  config: Pick<AppConfig, 'LOG_FORMAT' | 'NO_COLOR'>,
  isTerminal = process.stdout.isTTY === true,
): ConsoleFormat {
  const pretty = config.LOG_FORMAT === '' ? isTerminal : config.LOG_FORMAT === 'pretty';
  return { pretty, colour: pretty && isTerminal && config.NO_COLOR === '' };
}

/**
 * pino's destination for pretty lines written from the main thread (LOG_SHIPPING off): pino
 * writes each JSON line here, and stdout gets its pretty form. Synchronous, as a terminal is.
 */
export function prettyStdout(colour: boolean): DestinationStream {
  const stdout = new SonicBoom({ fd: 1, sync: true });
  return { write: (line: string) => stdout.write(prettyLine(line.trimEnd(), colour)) };
}
