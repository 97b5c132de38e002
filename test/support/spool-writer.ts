// A real process that logs through the product's logger, transport thread, spool and shipper,
// on command: for tests of the log spool that need to choose when each line is written.
import { type ChildProcess, spawn } from 'node:child_process';
import { eventually, repoRoot } from './services';

/**
 * Reads commands on stdin: `log <phase> <count> <from>` logs `count` lines (labels.phase,
 * labels.n counting from `from`),
 * `status` writes the shipping counters to stderr as one JSON line. Log lines go to stdout.
 */
const WRITER = `
const readline = require('node:readline');
const { loadConfig } = require('./dist/config/load-config.js');
const { LogTransportHandle } = require('./dist/logging/log-transport-handle.js');
const { createLogger } = require('./dist/logging/logger.js');
const shipping = LogTransportHandle.start(loadConfig(), 'threadline-worker');
const report = (what) =>
  process.stderr.write(JSON.stringify({ what, pid: process.pid, ...shipping.status() }) + '\\n');
shipping.ready.then(() => {
  const log = createLogger({ service: 'threadline-worker', level: 'info', destination: shipping.destination });
  const marker = process.env.MARKER;
  const input = readline.createInterface({ input: process.stdin });
  input.on('line', (command) => {
    const [verb, phase, count, from] = command.split(' ');
    if (verb === 'status') return report('status');
    for (let n = Number(from); n < Number(from) + Number(count); n++) {
      log.info({ 'labels.marker': marker, 'labels.phase': phase, 'labels.n': String(n) }, phase + ' line ' + n);
    }
  });
  input.on('close', () => process.exit(0));
  report('ready');
});
`;

export interface WriterStatus {
  what: string;
  pid: number;
  state: string;
  accepted: number;
  shipped: number;
  duplicates: number;
  dropped: number;
  dead_lettered: number;
  spool_write_errors: number;
  spooled: number;
}

export type WriterLine = Record<string, unknown>;

export class SpoolWriter {
  readonly child: ChildProcess;
  /** Every line it wrote to stdout, parsed. */
  readonly lines: WriterLine[] = [];
  readonly reports: WriterStatus[] = [];
  private stdout = '';
  private stderr = '';

  /** `wrap`: a command to run node under (e.g. unshare), with its arguments. */
  constructor(env: Record<string, string>, wrap: string[] = []) {
    const [command = process.execPath, ...args] = [...wrap, process.execPath, '-e', WRITER];
    this.child = spawn(command, args, {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      const end = this.stdout.lastIndexOf('\n');
      if (end < 0) return;
      for (const line of this.stdout.slice(0, end).split('\n')) {
        if (line) this.lines.push(JSON.parse(line) as WriterLine);
      }
      this.stdout = this.stdout.slice(end + 1);
    });
    let pending = '';
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('{"what"')) this.reports.push(JSON.parse(line) as WriterStatus);
      }
    });
  }

  /** Waits for the process to take commands; its first report. */
  async ready(): Promise<WriterStatus> {
    return this.until(() => this.reports.find((r) => r.what === 'ready'), 'the writer to start');
  }

  log(phase: string, count: number, from = 0): void {
    this.child.stdin?.write(`log ${phase} ${count} ${from}\n`);
  }

  /** The stdout lines of one phase, once there are `count` of them. */
  async written(phase: string, count: number): Promise<WriterLine[]> {
    return this.until(() => {
      const lines = this.lines.filter((line) => line['labels.phase'] === phase);
      return lines.length >= count ? lines : undefined;
    }, `${count} ${phase} lines on stdout`);
  }

  async status(): Promise<WriterStatus> {
    const before = this.reports.length;
    this.child.stdin?.write('status\n');
    return this.until(() => this.reports.slice(before).find((r) => r.what === 'status'), 'status');
  }

  /** The shipper's own lines with this `event.action`. */
  notices(action: string): WriterLine[] {
    return this.lines.filter((line) => line['event.action'] === action);
  }

  async until<T>(probe: () => T | undefined, what: string): Promise<T> {
    return eventually(() => {
      if (this.child.exitCode !== null) {
        throw new Error(`the writer exited (${this.child.exitCode}):\n${this.stderr}`);
      }
      return Promise.resolve(probe());
    }, what);
  }

  /** Ends it as a clean stop would (stdin closed), or kills it after 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
