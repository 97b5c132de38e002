import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDebianPackage } from './debian.mts';
import { repoRoot, servicesDir } from './paths.mts';
import { isAlive, spawnDetached, tail, waitUntil } from './processes.mts';
import { say, ScriptError } from './say.mts';
import type { LocalService } from './service.mts';

export const DEFAULT_ELASTICSEARCH_URL = 'http://127.0.0.1:9200';

const projectDir = join(repoRoot, 'elk', 'embedded-es');
const classpathFile = join(projectDir, 'target', 'classpath.txt');
const MAIN_CLASS = 'dev.threadline.es.EmbeddedElasticsearch';
/** At most 1 GB of heap: enough for development and tests, and it leaves room on 2-core CI machines. */
const DEFAULT_JAVA_OPTS = ['-Xms512m', '-Xmx1g'];

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1500) });
    return response.ok && response.headers.get('x-elastic-product') === 'Elasticsearch';
  } catch {
    return false;
  }
}

async function healthy(url: string): Promise<boolean> {
  try {
    const health = new URL('/_cluster/health?wait_for_status=yellow&timeout=1s', url);
    const response = await fetch(health, { signal: AbortSignal.timeout(3000) });
    return response.ok;
  } catch {
    return false;
  }
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

function buildIsCurrent(): boolean {
  if (!existsSync(classpathFile)) return false;
  const built = statSync(classpathFile).mtimeMs;
  return (
    statSync(join(projectDir, 'pom.xml')).mtimeMs < built &&
    newestSource(join(projectDir, 'src')) < built
  );
}

/**
 * Compiles the embedded node and resolves its jars with Maven (cached in ~/.m2), showing
 * download progress: the first run fetches about 45 MB from Maven Central.
 */
async function buildNode(): Promise<void> {
  if (buildIsCurrent()) return;
  ensureDebianPackage('javac', 'openjdk-17-jdk-headless');
  ensureDebianPackage('mvn', 'maven');
  say(
    'elasticsearch',
    'building the embedded node with Maven (first run downloads ~45 MB into ~/.m2)',
  );
  const mvn = spawn('mvn', ['-B', '-f', join(projectDir, 'pom.xml'), 'compile'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let downloads = 0;
  let reported = 0;
  const onData = (chunk: Buffer): void => {
    const text = chunk.toString();
    output += text;
    downloads += text.match(/Downloaded from /g)?.length ?? 0;
    if (downloads - reported >= 50) {
      reported = downloads;
      say('elasticsearch', `  downloaded ${downloads} files so far`);
    }
  };
  mvn.stdout.on('data', onData);
  mvn.stderr.on('data', onData);
  const code = await new Promise<number | null>((resolve) => mvn.once('exit', resolve));
  if (code !== 0) {
    const lastLines = output.trimEnd().split('\n').slice(-20).join('\n');
    throw new ScriptError(
      'elasticsearch',
      `Maven could not build elk/embedded-es (exit ${code}):\n${lastLines}`,
      'check that Maven Central is reachable, then run: mvn -B -f elk/embedded-es/pom.xml compile',
    );
  }
  if (downloads > 0) say('elasticsearch', `  downloaded ${downloads} files`);
}

/**
 * A real Elasticsearch 8 node in one JVM, built from Maven Central by elk/embedded-es
 * (see docs/elasticsearch-node.md). Its data lives in .services/elasticsearch-<port>/.
 */
export const elasticsearch: LocalService = {
  name: 'elasticsearch',
  urlVariable: 'ELASTICSEARCH_URL',
  url: () => process.env.ELASTICSEARCH_URL || DEFAULT_ELASTICSEARCH_URL,
  answers,
  async start(url) {
    const { protocol, port } = new URL(url);
    if (protocol !== 'http:') {
      throw new ScriptError(
        'elasticsearch',
        `cannot start a local node for ${url}`,
        'the local node speaks plain http://; use an http:// URL',
      );
    }
    await buildNode();
    const httpPort = port || '9200';
    const basePath = join(servicesDir, `elasticsearch-${httpPort}`);
    const logFile = join(servicesDir, `elasticsearch-${httpPort}.log`);
    const classpath = `${join(projectDir, 'target', 'classes')}:${readFileSync(classpathFile, 'utf8').trim()}`;
    const javaOpts = process.env.ES_JAVA_OPTS?.split(/\s+/).filter(Boolean) ?? DEFAULT_JAVA_OPTS;
    const pid = spawnDetached(
      'java',
      [
        ...javaOpts,
        '-cp',
        classpath,
        MAIN_CLASS,
        '-basePath',
        basePath,
        '-httpPort',
        httpPort,
        '-clusterName',
        'threadline',
      ],
      logFile,
    );
    say('elasticsearch', `starting a node on 127.0.0.1:${httpPort} (data in ${basePath})`);
    const started = Date.now();
    const up = await waitUntil(() => healthy(url), {
      topic: 'elasticsearch',
      timeoutMs: 180_000,
      abortIf: () =>
        isAlive(pid) ? undefined : `the Elasticsearch node exited:\n${tail(logFile)}`,
      onWait: (s) => say('elasticsearch', `  waiting for cluster health yellow (${s} s)`),
    });
    if (!up) {
      throw new ScriptError(
        'elasticsearch',
        `the node did not reach health yellow within 180 s:\n${tail(logFile)}`,
        `see ${logFile}`,
      );
    }
    say('elasticsearch', `  healthy after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { pid, logFile };
  },
};
