// A private Elasticsearch cluster for one test file, started by the project's own runner
// (scripts/lib/elasticsearch.mts: one JVM per node, so that a test stops a node by killing
// its process). The scripts are ES modules that Node runs as TypeScript itself, so they are
// called from a child Node process; the nodes outlive it.
import { spawnSync } from 'node:child_process';
import { repoRoot } from './services';

/** As scripts/lib/elasticsearch.mts describes a node (plain data, passed as JSON). */
export interface ClusterNode {
  name: string;
  url: string;
  httpPort: number;
  transportPort: number;
  /** 0 once the node is known to be stopped. */
  pid: number;
  basePath: string;
  logFile: string;
}

export interface ElasticsearchCluster {
  clusterName: string;
  basePath: string;
  nodes: ClusterNode[];
}

/** Calls an exported function of scripts/lib/elasticsearch.mts with JSON arguments. */
function callRunner<T>(name: string, args: unknown[]): T {
  const code = [
    `import * as runner from './scripts/lib/elasticsearch.mts';`,
    `const result = await runner.${name}(...JSON.parse(process.argv[1]));`,
    `process.stdout.write(JSON.stringify(result ?? null));`,
  ].join('\n');
  const result = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', code, JSON.stringify(args)],
    { cwd: repoRoot, encoding: 'utf8', timeout: 240_000 },
  );
  if (result.status !== 0) {
    throw new Error(`${name} failed (exit ${result.status}):\n${result.stderr}`);
  }
  return JSON.parse(result.stdout) as T;
}

export function startCluster(options: {
  httpPorts: number[];
  transportPorts: number[];
  basePath: string;
  clusterName: string;
}): ElasticsearchCluster {
  return callRunner('startElasticsearchCluster', [{ ...options, timeoutMs: 180_000 }]);
}

/** Starts a stopped node again on its data; resolves once it has joined the others. */
export function restartNode(cluster: ElasticsearchCluster, name: string): ClusterNode {
  return callRunner('restartClusterNode', [cluster, name, 180_000]);
}

/** Stops every node still running and deletes their data and logs. */
export function stopCluster(cluster: ElasticsearchCluster): void {
  callRunner('stopElasticsearchCluster', [cluster, { removeData: true }]);
}
