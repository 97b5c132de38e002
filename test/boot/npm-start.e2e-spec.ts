// `npm start` brings up Redis, Elasticsearch and the API, prints their addresses, and on
// SIGINT or SIGTERM stops everything it started and nothing it found running. In a terminal
// its processes print lines for a person; piped, the JSON lines; Elasticsearch gets JSON.
import { Client } from '@elastic/elasticsearch';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUNTIME_ENV } from '../../scripts/lib/node-flags.mjs';
import { allDocs, type LogDoc } from '../support/log-search';
import {
  ELASTICSEARCH_URL,
  REDIS_URL,
  eventually,
  freePort,
  isAlive,
  recordedPid,
  repoRoot,
} from '../support/services';

interface Started {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
  /** Stops it as a person would: SIGTERM to its group, or Ctrl-C in its terminal. */
  stop: () => void;
}

/** Every `npm start` a test began: one a failed assertion left running is stopped after it. */
const begun: Started[] = [];

const NPM_START = ['npm', 'start', '--', '--no-build'];

/**
 * `npm start` itself, without rebuilding (`npm test` has just built dist/), in its own process
 * group, its output piped; or, with `terminal`, on a pseudo-terminal (util-linux `script`), as
 * in a person's terminal: stdout and stderr are then the one terminal's output.
 */
function npmStart(env: Record<string, string>, { terminal = false } = {}): Started {
  const [command, ...args] = terminal
    ? ['script', '-qfec', NPM_START.join(' '), '/dev/null']
    : NPM_START;
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: [terminal ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // On the terminal, Ctrl-C reaches npm start's foreground group through the terminal itself.
  const stop = (): void => {
    if (terminal) child.stdin?.write('\u0003');
    else process.kill(-(child.pid ?? 0), 'SIGTERM');
  };
  const started = { child, output: () => output, exit, stop };
  begun.push(started);
  return started;
}

/** The JSON lines of an output (the rest is npm start's own lines and pretty lines). */
const jsonLines = (output: string): LogDoc[] =>
  output
    .split(/\r?\n/)
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogDoc);

/** A terminal's output as lines of text, without colours. */
const terminalLines = (output: string): string[] =>
  // eslint-disable-next-line no-control-regex
  output.replace(/\u001b\[[0-9;]*m/g, '').split(/\r?\n/);

/** A pretty log line: time, level, service. */
const PRETTY = /^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) (api|worker) /;

/** A free port whose next port is free too. */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    const next = createServer();
    const free = await new Promise<boolean>((resolve) => {
      next.once('error', () => resolve(false));
      next.listen(port + 1, '127.0.0.1', () => resolve(true));
    });
    if (free) {
      await new Promise((closed) => next.close(closed));
      return port;
    }
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

function waitForUp(started: Started): Promise<true> {
  return eventually(
    () => {
      if (started.child.exitCode !== null)
        throw new Error(`npm start exited:\n${started.output()}`);
      return Promise.resolve(started.output().includes('Threadline is up') ? true : undefined);
    },
    'npm start to report "Threadline is up"',
    300_000,
  );
}

describe('npm start', () => {
  // A test that failed before it stopped its npm start would leave it running, and jest
  // waiting on it: SIGTERM to its whole group, and npm start stops what it started.
  afterEach(async () => {
    for (const { child, exit, stop } of begun.splice(0)) {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) continue;
      stop();
      await exit;
    }
  });

  it('starts what is missing, prints the addresses, and SIGTERM stops all of it', async () => {
    const [apiPort, redisPort, esPort] = [await freePort(), await freePort(), await freePort()];
    const env = {
      PORT: String(apiPort),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      ELASTICSEARCH_URL: `http://127.0.0.1:${esPort}`,
    };
    const started = npmStart(env);
    await waitForUp(started);

    const text = started.output();
    expect(text).toContain(`http://127.0.0.1:${apiPort}`);
    expect(text).toMatch(new RegExp(`redis +redis://127\\.0\\.0\\.1:${redisPort} +\\(started\\)`));
    expect(text).toMatch(
      new RegExp(`elasticsearch +http://127\\.0\\.0\\.1:${esPort} +\\(started\\)`),
    );
    expect(await answers(`http://127.0.0.1:${apiPort}/ready`)).toBe(true);
    expect(text).toMatch(/workers +1 +\(pids \d+\)/);
    // With the environment Threadline's processes are run with (scripts/lib/node-flags.mts).
    const workerPid = /workers +1 +\(pids (\d+)\)/.exec(text)?.[1] ?? '';
    const environ = readFileSync(`/proc/${workerPid}/environ`, 'utf8').split('\0');
    for (const [name, value] of Object.entries(RUNTIME_ENV))
      expect(environ).toContain(`${name}=${value}`);

    // The worker it started runs tasks.
    const submitted = await fetch(`http://127.0.0.1:${apiPort}/api/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'echo', data: { message: 'started by npm start' } }),
    });
    const { task_id } = (await submitted.json()) as { task_id: string };
    const done = await eventually(async () => {
      const task = (await (
        await fetch(`http://127.0.0.1:${apiPort}/api/v1/tasks/${task_id}`)
      ).json()) as { status: string; result?: unknown };
      return task.status === 'completed' ? task : undefined;
    }, 'the task to complete');
    expect(done.result).toMatchObject({ message: 'started by npm start' });

    const redisPid = recordedPid('redis', redisPort);
    const esPid = recordedPid('elasticsearch', esPort);
    expect(redisPid).toEqual(expect.any(Number));
    expect(esPid).toEqual(expect.any(Number));

    // As a supervisor would: SIGTERM to npm alone, which does not pass it through its shell.
    started.child.kill('SIGTERM');
    await started.exit;
    // Its last act is to forget the services it stopped.
    await eventually(
      () =>
        Promise.resolve(
          (recordedPid('redis', redisPort) ?? recordedPid('elasticsearch', esPort))
            ? undefined
            : true,
        ),
      'npm start to stop and forget the services it started',
    );
    expect(isAlive(redisPid ?? -1)).toBe(false);
    expect(isAlive(esPid ?? -1)).toBe(false);
    expect(await answers(`http://127.0.0.1:${apiPort}/health`)).toBe(false);
    expect(await answers(`http://127.0.0.1:${esPort}`)).toBe(false);
  }, 400_000);

  it('reuses services that already run, gives each worker a metrics port, and Ctrl-C (SIGINT) leaves the services running', async () => {
    const apiPort = await freePort();
    const metricsPort = await freePortPair();
    const started = npmStart({
      PORT: String(apiPort),
      REDIS_URL,
      ELASTICSEARCH_URL,
      WORKERS: '2',
      METRICS_PORT: String(metricsPort),
    });
    await waitForUp(started);
    // METRICS_PORT, then the next port: one each, as the banner says.
    expect(started.output()).toContain(
      `http://127.0.0.1:${apiPort}/metrics  (workers: ports ${metricsPort}–${metricsPort + 1})`,
    );
    for (const port of [metricsPort, metricsPort + 1]) {
      const scraped = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect([port, scraped.status]).toEqual([port, 200]);
      expect(await scraped.text()).toContain('# TYPE threadline_tasks_started_total counter');
    }
    expect(started.output()).toMatch(/redis +\S+ +\(reused\)/);
    expect(started.output()).toMatch(/elasticsearch +\S+ +\(reused\)/);
    // Piped, its processes print the JSON lines, and no line for a person.
    expect(jsonLines(started.output())).toContainEqual(
      expect.objectContaining({
        'service.name': 'threadline-api',
        message: `API listening on http://127.0.0.1:${apiPort}`,
      }),
    );
    expect(started.output()).not.toMatch(new RegExp(PRETTY.source, 'm'));

    // As Ctrl-C in a terminal: SIGINT to the whole foreground process group.
    process.kill(-(started.child.pid ?? 0), 'SIGINT');
    await started.exit;
    await eventually(
      async () => ((await answers(`http://127.0.0.1:${apiPort}/health`)) ? undefined : true),
      'the API to stop',
    );
    expect(await answers(`http://127.0.0.1:${apiPort}/health`)).toBe(false);
    expect(await answers(ELASTICSEARCH_URL)).toBe(true);
  }, 120_000);

  it('in a terminal prints lines for a person, ships the JSON lines, and warns of nothing on a first start', async () => {
    const apiPort = await freePort();
    // A data stream no process has shipped to: the API installs its template as it starts.
    const dataStream = `logs-threadline-t${randomUUID().slice(0, 8)}`;
    const spoolDir = mkdtempSync(join(tmpdir(), 'threadline-spool-'));
    const client = new Client({ node: ELASTICSEARCH_URL });
    try {
      const started = npmStart(
        {
          PORT: String(apiPort),
          REDIS_URL,
          ELASTICSEARCH_URL,
          REDIS_PREFIX: `tl-test-${randomUUID().slice(0, 8)}`,
          LOG_DATA_STREAM: dataStream,
          LOG_SPOOL_DIR: spoolDir,
          // Unset: colours on, as in a terminal.
          NO_COLOR: '',
        },
        { terminal: true },
      );
      await waitForUp(started);
      const requestId = randomUUID();
      const submitted = await fetch(`http://127.0.0.1:${apiPort}/api/v1/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': requestId },
        body: JSON.stringify({ type: 'echo', data: { message: 'on a terminal' } }),
      });
      expect(submitted.status).toBe(202);
      const { task_id: taskId } = (await submitted.json()) as { task_id: string };
      const short = { req: requestId.slice(0, 8), task: taskId.slice(0, 8) };
      const completed = new RegExp(
        `^\\S+ INFO  worker req=${short.req} corr=${short.req} task=${short.task} .*task ${taskId} completed in \\d+ ms$`,
      );
      await eventually(
        () => Promise.resolve(terminalLines(started.output()).find((l) => completed.test(l))),
        "the worker's pretty line for the task",
      );

      const lines = terminalLines(started.output());
      expect(jsonLines(started.output())).toEqual([]);
      expect(lines).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^\\S+ INFO  api    req=${short.req} corr=${short.req} task=${short.task} POST /api/v1/tasks 202 `,
          ),
        ),
      );
      expect(lines.filter((l) => PRETTY.test(l)).length).toBeGreaterThan(5);
      // The level is coloured.
      expect(started.output()).toContain('\u001b[32mINFO \u001b[0m');
      // Nest's start-up detail is at debug, and the template being installed is no news.
      expect(started.output()).not.toContain('Mapped {');
      expect(started.output()).not.toContain('dependencies initialized');
      expect(started.output()).not.toContain('no index template');
      expect(started.output()).not.toContain('cannot ship log lines');

      // Elasticsearch has the full JSON lines of the flow, from both processes.
      const flow = await eventually(async () => {
        const docs = await allDocs(client, dataStream, { term: { request_id: requestId } });
        const services = new Set(docs.map((doc) => doc['service.name']));
        return services.has('threadline-api') && services.has('threadline-worker')
          ? docs
          : undefined;
      }, 'the flow in Elasticsearch');
      expect(flow).toContainEqual(
        expect.objectContaining({
          '@timestamp': expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/) as unknown,
          'log.level': 'info',
          'service.name': 'threadline-api',
          'event.dataset': 'threadline.api',
          'event.action': 'http-request',
          'http.response.status_code': 202,
          request_id: requestId,
          correlation_id: requestId,
          'trace.id': expect.any(String) as unknown,
          'event.sequence': expect.any(Number) as unknown,
        }),
      );
      expect(flow).toContainEqual(
        expect.objectContaining({
          'service.name': 'threadline-worker',
          'event.action': 'task-completed',
          task_id: taskId,
          message: expect.stringMatching(/^task \S+ completed in \d+ ms$/) as unknown,
        }),
      );
      for (const doc of flow) expect(JSON.stringify(doc)).not.toContain('\\u001b');
      const all = await allDocs(client, dataStream);
      expect(all.filter((doc) => doc['event.action'] === 'log-shipping-failed')).toEqual([]);

      started.stop();
      await started.exit;
      await eventually(
        async () => ((await answers(`http://127.0.0.1:${apiPort}/health`)) ? undefined : true),
        'the API to stop',
      );
    } finally {
      await client.indices.deleteIndexTemplate({ name: dataStream }, { ignore: [400, 404] });
      await client.close();
      rmSync(spoolDir, { recursive: true, force: true });
    }
  }, 120_000);
});
