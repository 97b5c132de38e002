import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDebianPackage } from './debian.mts';
import { repoRoot, servicesDir } from './paths.mts';
import { isAlive, isLoopback, spawnDetached, stopProcess, tail, waitUntil } from './processes.mts';
import { say, ScriptError } from './say.mts';
import { listedUrls, type LocalService, type StartedNode } from './service.mts';

export const DEFAULT_ELASTICSEARCH_URL = 'http://127.0.0.1:9200';

const projectDir = join(repoRoot, 'elk', 'embedded-es');
const classpathFile = join(projectDir, 'target', 'classpath.txt');
const MAIN_CLASS = 'dev.threadline.es.EmbeddedElasticsearch';
/** At most 1 GB of heap: enough for development and tests, and it leaves room on 2-core CI machines. */
const DEFAULT_JAVA_OPTS = ['-Xms512m', '-Xmx1g'];
/** Per node of a cluster: half of a single node's, so that three fit on a 2-core CI machine. */
const CLUSTER_JAVA_OPTS = ['-Xms256m', '-Xmx512m'];
/** A cluster node's transport port, unless given: its HTTP port + 100 (9200 → 9300, as Elasticsearch's own defaults). */
const TRANSPORT_OFFSET = 100;

async function nodeAnswers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1500) });
    return response.ok && response.headers.get('x-elastic-product') === 'Elasticsearch';
  } catch {
    return false;
  }
}

/** True once the cluster at `url` is yellow or green with `nodes` nodes (408 while it is not). */
async function healthy(url: string, nodes = 1): Promise<boolean> {
  try {
    const health = new URL(
      `/_cluster/health?wait_for_status=yellow&wait_for_nodes=${nodes}&timeout=1s`,
      url,
    );
    const response = await fetch(health, { signal: AbortSignal.timeout(3000) });
    if (!response.ok) return false;
    const body = (await response.json()) as { number_of_nodes?: number };
    return body.number_of_nodes === nodes;
  } catch {
    return false;
  }
}

function classpath(): string {
  return `${join(projectDir, 'target', 'classes')}:${readFileSync(classpathFile, 'utf8').trim()}`;
}

function javaOpts(fallback: readonly string[]): string[] {
  return process.env.ES_JAVA_OPTS?.split(/\s+/).filter(Boolean) ?? [...fallback];
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
  // Maven leaves an unchanged classpath file alone: mark the build current, as run.sh does.
  const now = new Date();
  utimesSync(classpathFile, now, now);
}

/** One node of a cluster started by {@link startElasticsearchCluster}: one JVM of its own. */
export interface ClusterNode extends StartedNode {
  /** `node-1`, `node-2`, …: its `node.name`. */
  name: string;
  httpPort: number;
  transportPort: number;
  /** Its config, data and logs. */
  basePath: string;
}

/** What it takes to stop the cluster, kill or restart one node: plain data, so it can be saved as JSON. */
export interface ElasticsearchCluster {
  clusterName: string;
  /** Holds every node's directory and log. */
  basePath: string;
  nodes: ClusterNode[];
}

export interface ClusterOptions {
  /** The HTTP port of each node: as many nodes (JVMs) as ports. */
  httpPorts: readonly number[];
  /** The transport port of each node, which the others find it by. Default: each HTTP port + 100. */
  transportPorts?: readonly number[];
  /** Under which each node keeps `node-<n>/` (data) and `node-<n>.log`. */
  basePath: string;
  /** Default: `threadline`. */
  clusterName?: string;
  /** How long to wait for every node to have joined. Default: 180 s. */
  timeoutMs?: number;
}

function launchNode(cluster: ElasticsearchCluster, node: ClusterNode): number {
  const seedHosts = cluster.nodes.map((n) => `127.0.0.1:${n.transportPort}`).join(',');
  return spawnDetached(
    'java',
    [
      ...javaOpts(CLUSTER_JAVA_OPTS),
      '-cp',
      classpath(),
      MAIN_CLASS,
      '-basePath',
      node.basePath,
      '-httpPort',
      String(node.httpPort),
      '-transportPort',
      String(node.transportPort),
      '-clusterName',
      cluster.clusterName,
      '-nodeName',
      node.name,
      '-seedHosts',
      seedHosts,
      // Read only when the cluster forms for the first time; a node restarted on its data ignores it.
      '-initialMasterNodes',
      cluster.nodes.map((n) => n.name).join(','),
    ],
    node.logFile,
  );
}

/** Waits until every node of `cluster` is in it, and it is yellow or green. */
async function untilFormed(cluster: ElasticsearchCluster, timeoutMs: number): Promise<void> {
  const count = cluster.nodes.length;
  const started = Date.now();
  const formed = await waitUntil(
    async () => (await Promise.all(cluster.nodes.map((n) => healthy(n.url, count)))).every(Boolean),
    {
      topic: 'elasticsearch',
      timeoutMs,
      abortIf: () => {
        const gone = cluster.nodes.find((n) => !isAlive(n.pid));
        return gone && `${gone.name} (${gone.url}) exited:\n${tail(gone.logFile)}`;
      },
      onWait: (s) =>
        say('elasticsearch', `  waiting for ${count} nodes to form a cluster (${s} s)`),
    },
  );
  if (!formed) {
    throw new ScriptError(
      'elasticsearch',
      `the ${count} nodes did not form a cluster within ${timeoutMs / 1000} s`,
      `see ${cluster.nodes.map((n) => n.logFile).join(', ')}`,
    );
  }
  say(
    'elasticsearch',
    `  ${count} nodes joined after ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

/**
 * Starts a cluster of real Elasticsearch nodes on loopback, one JVM per node (so that stopping
 * one process stops one node), each with a fixed transport port the others find it by, and
 * waits until all have joined and the cluster is yellow or green. Node `n` keeps its data in
 * `<basePath>/node-<n>/`. Stop it with {@link stopElasticsearchCluster}.
 * @see docs/elasticsearch-node.md
 */
export async function startElasticsearchCluster(
  options: ClusterOptions,
): Promise<ElasticsearchCluster> {
  const { httpPorts, basePath } = options;
  const transportPorts = options.transportPorts ?? httpPorts.map((p) => p + TRANSPORT_OFFSET);
  if (httpPorts.length === 0 || transportPorts.length !== httpPorts.length) {
    throw new ScriptError(
      'elasticsearch',
      `a cluster needs one transport port per HTTP port (${httpPorts.length} HTTP, ${transportPorts.length} transport)`,
    );
  }
  await buildNode();
  const cluster: ElasticsearchCluster = {
    clusterName: options.clusterName ?? 'threadline',
    basePath,
    nodes: httpPorts.map((httpPort, i) => ({
      name: `node-${i + 1}`,
      url: `http://127.0.0.1:${httpPort}`,
      httpPort,
      transportPort: transportPorts[i] ?? 0,
      pid: 0,
      basePath: join(basePath, `node-${i + 1}`),
      logFile: join(basePath, `node-${i + 1}.log`),
    })),
  };
  say(
    'elasticsearch',
    `starting a cluster of ${httpPorts.length} nodes on 127.0.0.1:${httpPorts.join(', ')} (data in ${basePath})`,
  );
  for (const node of cluster.nodes) node.pid = launchNode(cluster, node);
  try {
    await untilFormed(cluster, options.timeoutMs ?? 180_000);
  } catch (error) {
    await stopElasticsearchCluster(cluster);
    throw error;
  }
  return cluster;
}

/**
 * Starts a node of `cluster` that was stopped (or killed) again, on its own data, and waits
 * until it has joined the others. Returns it with its new pid. A node whose `pid` is 0 is
 * known to be stopped: nothing is checked at its old pid, which another process may have by now.
 */
export async function restartClusterNode(
  cluster: ElasticsearchCluster,
  name: string,
  timeoutMs = 180_000,
): Promise<ClusterNode> {
  const node = cluster.nodes.find((n) => n.name === name);
  if (!node) {
    throw new ScriptError(
      'elasticsearch',
      `no node ${name} in this cluster`,
      `choose from ${cluster.nodes.map((n) => n.name).join(', ')}`,
    );
  }
  if (node.pid > 0 && isAlive(node.pid)) {
    throw new ScriptError(
      'elasticsearch',
      `${name} is still running (pid ${node.pid})`,
      'stop it first',
    );
  }
  node.pid = launchNode(cluster, node);
  await untilFormed(cluster, timeoutMs);
  return node;
}

/**
 * Stops every node of `cluster` still running (SIGTERM, then SIGKILL), except those whose `pid`
 * is 0 (known to be stopped); `removeData` deletes the cluster's directory: data and logs.
 */
export async function stopElasticsearchCluster(
  cluster: ElasticsearchCluster,
  options: { removeData?: boolean } = {},
): Promise<void> {
  await Promise.all(cluster.nodes.filter((n) => n.pid > 0).map((n) => stopProcess(n.pid)));
  if (options.removeData) rmSync(cluster.basePath, { recursive: true, force: true });
}

/** Starts the nodes that ELASTICSEARCH_URL lists as one cluster (`npm run services -- up` with several URLs). */
async function startListedCluster(urls: readonly string[]): Promise<StartedNode[]> {
  const ports = urls.map((url) => {
    const { protocol, hostname, port } = new URL(url);
    if (protocol !== 'http:' || !isLoopback(hostname)) {
      throw new ScriptError(
        'elasticsearch',
        `cannot start a local node for ${new URL(url).origin}`,
        'the local cluster runs on loopback and speaks plain http://; list http://127.0.0.1:<port> URLs',
      );
    }
    return Number(port || '9200');
  });
  if (new Set(ports).size !== ports.length) {
    throw new ScriptError(
      'elasticsearch',
      'ELASTICSEARCH_URL lists one port twice',
      'give each node a port of its own, e.g. http://127.0.0.1:9211,http://127.0.0.1:9212,http://127.0.0.1:9213',
    );
  }
  const answering = await Promise.all(urls.map(nodeAnswers));
  if (answering.some(Boolean)) {
    throw new ScriptError(
      'elasticsearch',
      `some nodes of ELASTICSEARCH_URL answer and others do not (not: ${urls
        .filter((_, i) => !answering[i])
        .map((u) => new URL(u).origin)
        .join(', ')})`,
      'stop the cluster (npm run services -- down elasticsearch), then start it again whole',
    );
  }
  const cluster = await startElasticsearchCluster({
    httpPorts: ports,
    basePath: join(servicesDir, `elasticsearch-cluster-${ports[0]}`),
  });
  return cluster.nodes.map(({ url, pid, logFile }) => ({ url, pid, logFile }));
}

/**
 * A real Elasticsearch 8 node in one JVM, built from Maven Central by elk/embedded-es
 * (see docs/elasticsearch-node.md). Its data lives in .services/elasticsearch-<port>/.
 * When ELASTICSEARCH_URL lists several nodes, a cluster of as many JVMs, one per URL, with
 * data in .services/elasticsearch-cluster-<first port>/.
 */
export const elasticsearch: LocalService = {
  name: 'elasticsearch',
  urlVariable: 'ELASTICSEARCH_URL',
  url: () => process.env.ELASTICSEARCH_URL || DEFAULT_ELASTICSEARCH_URL,
  async answers(url) {
    return (await Promise.all(listedUrls(url).map(nodeAnswers))).every(Boolean);
  },
  async start(url) {
    const urls = listedUrls(url);
    if (urls.length > 1) {
      const nodes = await startListedCluster(urls);
      const [first] = nodes;
      if (!first) throw new ScriptError('elasticsearch', 'ELASTICSEARCH_URL lists no node');
      return { pid: first.pid, logFile: first.logFile, nodes };
    }
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
    const pid = spawnDetached(
      'java',
      [
        ...javaOpts(DEFAULT_JAVA_OPTS),
        '-cp',
        classpath(),
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
