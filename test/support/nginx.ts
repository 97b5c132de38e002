// A real nginx (Debian's) running elk/nginx/nginx.conf.template in front of test APIs.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogStreams } from '../../src/config/data-streams';
import { eventually, freePort, repoRoot } from './services';

export interface Nginx {
  url: string;
  accessLog: string;
  /** The access lines written so far, parsed. */
  lines(): Record<string, unknown>[];
  stop(): Promise<void>;
}

/**
 * @param dataStream the LOG_DATA_STREAM whose nginx dataset the access lines name (their
 *   stream is rsyslog's to ship to)
 */
export async function startNginx(
  upstreamPorts: readonly number[],
  dataStream = 'logs-threadline-test',
): Promise<Nginx> {
  const streams = new LogStreams(dataStream);
  const ensured = spawnSync(
    process.execPath,
    [join(repoRoot, 'scripts', 'ensure-package.mts'), 'nginx', 'nginx'],
    {
      stdio: 'inherit',
    },
  );
  if (ensured.status !== 0) throw new Error('nginx is not installed and could not be installed');
  const prefix = mkdtempSync(join(tmpdir(), 'threadline-nginx-'));
  const port = await freePort();
  const accessLog = join(prefix, 'access.log');
  const config = readFileSync(join(repoRoot, 'elk', 'nginx', 'nginx.conf.template'), 'utf8')
    .replaceAll('${NGINX_PREFIX}', prefix)
    .replaceAll('${LISTEN}', `127.0.0.1:${port}`)
    .replaceAll('${API_UPSTREAMS}', upstreamPorts.map((p) => `server 127.0.0.1:${p};`).join(' '))
    .replaceAll('${ACCESS_LOG}', accessLog)
    .replaceAll('${LOG_DATASET}', streams.dataset('nginx'))
    .replaceAll('${LOG_NAMESPACE}', streams.namespace)
    .replaceAll('${ERROR_LOG}', join(prefix, 'error.log'));
  writeFileSync(join(prefix, 'nginx.conf'), config);
  writeFileSync(accessLog, '');
  const child: ChildProcess = spawn(
    'nginx',
    ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => {
    if (child.exitCode !== null)
      throw new Error(`nginx exited:\n${readFileSync(join(prefix, 'error.log'), 'utf8')}`);
    await fetch(`${url}/health`);
    return true;
  }, 'nginx to answer');
  return {
    url,
    accessLog,
    lines: () =>
      readFileSync(accessLog, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGQUIT');
      await exited;
    },
  };
}
