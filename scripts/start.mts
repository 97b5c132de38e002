// npm start: build, bring up Redis and Elasticsearch (reusing running ones), run the API;
// Ctrl-C or SIGTERM stops the API and every service this command started.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runMain } from './lib/main.mts';
import { NODE_FLAGS, RUNTIME_ENV } from './lib/node-flags.mts';
import { repoRoot } from './lib/paths.mts';
import { bold, dim, say, ScriptError } from './lib/say.mts';
import { down, SERVICES, up, type ServiceUp } from './lib/services.mts';

const apiPort = process.env.PORT || '3000';
const apiHost = process.env.HOST || '127.0.0.1';
const apiUrl = `http://${apiHost === '0.0.0.0' ? '127.0.0.1' : apiHost}:${apiPort}`;

function build(): void {
  say('build', 'compiling the application (nest build)');
  const result = spawnSync(join(repoRoot, 'node_modules', '.bin', 'nest'), ['build'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    throw new ScriptError(
      'build',
      'nest build failed',
      'fix the compiler errors above, then run npm start again',
    );
  }
}

async function apiAnswers(): Promise<boolean> {
  try {
    const response = await fetch(`${apiUrl}/health`, { signal: AbortSignal.timeout(1000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** Resolves with the exit code once `child` has exited. */
function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/**
 * Resolves with the reason once this command is asked to stop: SIGINT (Ctrl-C), SIGTERM, or
 * the shell that npm ran it in going away (npm passes SIGTERM to that shell, which does not
 * pass it on). A second signal calls `onRepeat`.
 */
function stopRequested(onRepeat: (signal: string) => void): Promise<string> {
  return new Promise((resolve) => {
    let requested = false;
    const request = (reason: string, isSignal: boolean): void => {
      if (requested && isSignal) onRepeat(reason);
      requested = true;
      resolve(reason);
    };
    process.on('SIGINT', () => request('SIGINT', true));
    process.on('SIGTERM', () => request('SIGTERM', true));
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) request('parent process exited', false);
    }, 500).unref();
  });
}

const workerCount = Number(process.env.WORKERS || '1');
/**
 * METRICS_PORT, when set: worker i (from 1) serves its metrics on METRICS_PORT + i - 1, each on a
 * port of its own; the API serves its own at /metrics on PORT.
 */
const metricsPort = Number(process.env.METRICS_PORT || '0');
const workerMetricsPort = (i: number): number => (metricsPort > 0 ? metricsPort + i - 1 : 0);

/** A process npm start runs and stops: the API or a worker. */
interface Managed {
  name: string;
  child: ChildProcess;
  exit: Promise<number>;
}

/** Runs a compiled entry point in its own process group: only this script signals it. */
function run(name: string, entry: string, env: Record<string, string> = {}): Managed {
  const child = spawn(process.execPath, [...NODE_FLAGS, join(repoRoot, 'dist', entry)], {
    cwd: repoRoot,
    env: { ...process.env, ...RUNTIME_ENV, ...env },
    stdio: 'inherit',
    detached: true,
  });
  return { name, child, exit: exited(child) };
}

function signal(processes: readonly Managed[], sig: NodeJS.Signals): void {
  for (const { child } of processes) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, sig);
    }
  }
}

runMain(async () => {
  if (process.argv.includes('--help')) {
    process.stdout.write(
      [
        'Usage: npm start [-- --no-build]',
        '',
        'Builds Threadline (unless --no-build), starts Redis and Elasticsearch when nothing answers',
        'at REDIS_URL and ELASTICSEARCH_URL, then runs the API on HOST:PORT and WORKERS worker',
        'processes (default 1). Ctrl-C stops everything this command started; a second Ctrl-C',
        'kills the API and workers at once. With METRICS_PORT set, worker i serves its metrics on',
        'METRICS_PORT + i - 1 (the API serves its own at /metrics).',
        '',
      ].join('\n'),
    );
    return 0;
  }
  if (metricsPort > 0 && metricsPort + workerCount - 1 > 65535) {
    throw new ScriptError(
      'start',
      `METRICS_PORT ${metricsPort} leaves no port for worker ${workerCount} (METRICS_PORT + ${workerCount - 1} > 65535)`,
      'set a lower METRICS_PORT, e.g. METRICS_PORT=9464',
    );
  }
  if (!Number.isInteger(workerCount) || workerCount < 0 || workerCount > 64) {
    throw new ScriptError(
      'start',
      `WORKERS must be a whole number from 0 to 64`,
      'e.g. WORKERS=2 npm start',
    );
  }
  const processes: Managed[] = [];
  const stopping = stopRequested((sig) => {
    say('start', `${sig} again: killing the API and workers now`);
    signal(processes, 'SIGKILL');
  });

  if (await apiAnswers()) {
    throw new ScriptError(
      'api',
      `an API already answers at ${apiUrl}`,
      'use it, stop it, or set PORT to run a second one',
    );
  }
  if (!process.argv.includes('--no-build')) build();
  const services = await up(SERVICES);
  const startedByUs = SERVICES.filter((s) =>
    services.some((u) => u.name === s.name && u.state === 'started'),
  );

  const api = run('api', 'main.js', { METRICS_PORT: '0' });
  processes.push(api);
  for (let i = 1; i <= workerCount; i++) {
    processes.push(run(`worker ${i}`, 'worker.js', { METRICS_PORT: String(workerMetricsPort(i)) }));
  }
  void announceWhenUp(api.child, services, processes.slice(1));

  const outcome = await Promise.race([
    stopping.then((reason) => ({ reason, code: 0 })),
    ...processes.map((p) =>
      p.exit.then((code) => ({
        reason: `the ${p.name} exited with code ${code}`,
        code: code || 1,
      })),
    ),
  ]);
  say('start', `${outcome.reason}: stopping what npm start started`);
  // Workers first finish their tasks in flight (up to WORKER_SHUTDOWN_GRACE_MS).
  signal(processes, 'SIGTERM');
  await Promise.all(processes.map((p) => p.exit));
  say('start', `api and ${workerCount} worker(s) stopped`);
  await down(startedByUs);
  return outcome.code;
});

/** Prints the addresses once the API answers (or gives up if it exits first). */
async function announceWhenUp(
  api: ChildProcess,
  services: readonly ServiceUp[],
  workers: readonly Managed[],
): Promise<void> {
  while (api.exitCode === null) {
    if (await apiAnswers()) {
      const pids = workers.map((w) => w.child.pid).join(', ');
      const lines = [
        '',
        bold('Threadline is up'),
        `  ${'api'.padEnd(14)} ${apiUrl}  ${dim('(/api/docs, /admin/queues, /ready)')}`,
        `  ${'workers'.padEnd(14)} ${workers.length}  ${dim(workers.length ? `(pids ${pids})` : '(WORKERS=0)')}`,
        `  ${'metrics'.padEnd(14)} ${process.env.METRICS === 'false' ? 'off' : `${apiUrl}/metrics`}  ${dim(
          metricsPort > 0 && workers.length > 0
            ? `(workers: ports ${workerMetricsPort(1)}–${workerMetricsPort(workers.length)})`
            : '(workers: set METRICS_PORT)',
        )}`,
        ...services.map((s) => `  ${s.name.padEnd(14)} ${s.url}  ${dim(`(${s.state})`)}`),
        dim('  Ctrl-C stops what this command started.'),
        '',
      ];
      process.stderr.write(`${lines.join('\n')}\n`);
      return;
    }
    await sleep(200);
  }
}
