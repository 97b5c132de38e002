// npm run redis-cluster -- up|down [--first-port N] [--json]
import { runMain } from './lib/main.mts';
import { restartClusterNode, startRedisCluster, stopRedisCluster } from './lib/redis-cluster.mts';

const USAGE = `Usage: npm run redis-cluster -- <up|down|restart PORT> [--first-port 7100] [--json]

Starts (or stops) a local Redis Cluster for trying Threadline's cluster mode: three masters
with a replica each, on 127.0.0.1 ports 7100-7105 (or from --first-port), AOF on.
"up" always makes a new, empty cluster; "restart PORT" starts one stopped node again. Then run Threadline with the REDIS_CLUSTER_NODES it
prints (see docs/scaling.md).
`;

runMain(async () => {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const at = args.indexOf('--first-port');
  const firstPort = at >= 0 ? Number(args[at + 1]) : 7100;
  const command = args.find((a, i) => !a.startsWith('--') && (at < 0 || i !== at + 1));
  if (!Number.isInteger(firstPort) || firstPort < 1 || firstPort > 65530) {
    process.stderr.write(`--first-port must be a port number.\n\n${USAGE}`);
    return 2;
  }
  if (command === 'up') {
    const cluster = await startRedisCluster({ firstPort });
    if (json) process.stdout.write(`${JSON.stringify(cluster)}\n`);
    return 0;
  }
  if (command === 'restart') {
    const port = Number(args[args.indexOf('restart') + 1]);
    if (!Number.isInteger(port)) {
      process.stderr.write(`restart needs the node's port, e.g. restart 7100.\n\n${USAGE}`);
      return 2;
    }
    const node = await restartClusterNode(firstPort, port);
    if (json) process.stdout.write(`${JSON.stringify(node)}\n`);
    return 0;
  }
  if (command === 'down') {
    await stopRedisCluster(firstPort);
    return 0;
  }
  process.stdout.write(USAGE);
  return command === undefined || command === 'help' || args.includes('--help') ? 0 : 2;
});
