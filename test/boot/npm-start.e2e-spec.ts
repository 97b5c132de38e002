// `npm start` brings up Redis, Elasticsearch and the API, prints their addresses, and on
// SIGINT or SIGTERM stops everything it started and nothing it found running.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { RUNTIME_ENV } from '../../scripts/lib/node-flags.mjs';
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
}

/** Every `npm start` a test began: one a failed assertion left running is stopped after it. */
const begun: Started[] = [];

function npmStart(env: Record<string, string>): Started {
  // `npm start` itself, without rebuilding (`npm test` has just built dist/), in its own
  // process group, as a terminal would run it.
  const child = spawn('npm', ['start', '--', '--no-build'], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = { child, output: () => output, exit };
  begun.push(started);
  return started;
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
    for (const { child, exit } of begun.splice(0)) {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) continue;
      process.kill(-child.pid, 'SIGTERM');
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

  it('reuses services that already run, and Ctrl-C (SIGINT) leaves them running', async () => {
    const apiPort = await freePort();
    const started = npmStart({ PORT: String(apiPort), REDIS_URL, ELASTICSEARCH_URL });
    await waitForUp(started);
    expect(started.output()).toMatch(/redis +\S+ +\(reused\)/);
    expect(started.output()).toMatch(/elasticsearch +\S+ +\(reused\)/);

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
});
