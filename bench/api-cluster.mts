// Runs N Threadline API processes on one port, the way `uvicorn --workers N` runs the Python
// stack: node:cluster with the kernel spreading connections over the processes (SCHED_NONE),
// no hand-off through this primary. Usage: node bench/api-cluster.mts <processes>
import cluster from 'node:cluster';
import { join, resolve } from 'node:path';

const processes = Number(process.argv[2] ?? 2);
cluster.schedulingPolicy = cluster.SCHED_NONE;
cluster.setupPrimary({ exec: join(resolve(import.meta.dirname, '..'), 'dist', 'main.js') });
const workers = Array.from({ length: processes }, () => cluster.fork());
for (const worker of workers) {
  worker.on('online', () => process.stdout.write(`api process ${worker.process.pid}\n`));
}
process.on('SIGTERM', () => {
  for (const worker of workers) worker.process.kill('SIGTERM');
  let left = workers.length;
  for (const worker of workers) worker.on('exit', () => --left === 0 && process.exit(0));
});
