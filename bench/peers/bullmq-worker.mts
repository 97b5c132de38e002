// Peer of the Threadline worker in the drain benchmark: BullMQ's own Worker, with a no-op
// processor, on one queue. Same Redis, same jobs, same concurrency.
import { Worker } from 'bullmq';

const [queue, prefix, concurrency] = process.argv.slice(2);
const worker = new Worker(queue, () => Promise.resolve({ ok: true }), {
  connection: {
    url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    maxRetriesPerRequest: null,
  },
  prefix,
  concurrency: Number(concurrency),
});
worker.on('ready', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
