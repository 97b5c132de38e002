// A real rsyslog (Debian's, with its omelasticsearch plugin) running
// elk/rsyslog/rsyslog.conf.template: it tails an nginx access log and ships every line to an
// Elasticsearch data stream, each as one document whose _id is the line's event.id.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, repoRoot } from './services';

export interface Rsyslog {
  /**
   * Where rsyslog writes what it could not ship: _bulk requests Elasticsearch answered with
   * an error (with its reply) and lines that are not nginx JSON access lines.
   */
  errorFile: string;
  /** SIGTERM, then waits for rsyslogd to exit (its queue and read position saved). */
  stop(): Promise<void>;
}

const RSYSLOGD = '/usr/sbin/rsyslogd';

/** Debian's multiarch directory, where rsyslog's plugins live. */
const MULTIARCH: Partial<Record<NodeJS.Architecture, string>> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
};

function ensurePackage(binary: string, pkg: string): void {
  const ensured = spawnSync(
    process.execPath,
    [join(repoRoot, 'scripts', 'ensure-package.mts'), binary, pkg],
    {
      stdio: 'inherit',
    },
  );
  if (ensured.status !== 0) throw new Error(`${pkg} is not installed and could not be installed`);
}

function readIfThere(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

export async function startRsyslog(options: {
  accessLog: string;
  elasticsearchUrl: string;
  dataStream: string;
}): Promise<Rsyslog> {
  ensurePackage(RSYSLOGD, 'rsyslog');
  // The plugin has no command of its own: ensure-package checks for the file instead.
  const plugin = `/usr/lib/${MULTIARCH[process.arch] ?? 'x86_64-linux-gnu'}/rsyslog/omelasticsearch.so`;
  ensurePackage(plugin, 'rsyslog-elasticsearch');

  // Everything of this instance (queue files, imfile's state file, its own log) lives here,
  // so that several can run side by side.
  const workDir = mkdtempSync(join(tmpdir(), 'threadline-rsyslog-'));
  const errorFile = join(workDir, 'errors.json');
  const ownLog = join(workDir, 'rsyslogd.log'); // named by the template
  const pidFile = join(workDir, 'rsyslogd.pid');
  const configFile = join(workDir, 'rsyslog.conf');
  const config = readFileSync(join(repoRoot, 'elk', 'rsyslog', 'rsyslog.conf.template'), 'utf8')
    .replaceAll('${WORK_DIR}', workDir)
    .replaceAll('${ACCESS_LOG}', options.accessLog)
    .replaceAll('${ELASTICSEARCH_URL}', options.elasticsearchUrl)
    .replaceAll('${NGINX_DATA_STREAM}', options.dataStream)
    .replaceAll('${ERROR_FILE}', errorFile);
  writeFileSync(configFile, config);

  // A bad config (or a missing plugin) is reported here, with rsyslogd's own words.
  const checked = spawnSync(RSYSLOGD, ['-N1', '-f', configFile], { encoding: 'utf8' });
  if (checked.status !== 0) {
    throw new Error(`rsyslogd refuses ${configFile}:\n${checked.stdout}${checked.stderr}`);
  }

  const child: ChildProcess = spawn(RSYSLOGD, ['-n', '-f', configFile, '-i', pidFile], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  // Running: it wrote its pid file and logged "start", which it does once the config is
  // active. Lines appended before imfile watches the file are not missed: with no state file
  // it reads the access log from its beginning.
  await eventually(() => {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`rsyslogd exited:\n${readIfThere(ownLog)}`);
    }
    const started =
      readIfThere(pidFile).trim() === String(child.pid) && readIfThere(ownLog).includes('] start');
    return Promise.resolve(started ? true : undefined);
  }, 'rsyslogd to start');

  return {
    errorFile,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
