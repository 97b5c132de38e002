// Peer of POST /api/v1/tasks in the submit benchmark: a bare Express route that only does
// BullMQ's queue.add, with no validation, idempotency or problem documents. The gap between
// the two is what Threadline's own layers cost.
import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import express from 'express';

const [port, prefix] = process.argv.slice(2);
const queue = new Queue('medium', {
  connection: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
  prefix,
});
const app = express();
app.use(express.json());
app.post('/api/v1/tasks', (req, res) => {
  const body = req.body as { type: string; data: unknown };
  const id = randomUUID();
  queue
    .add(
      body.type,
      { input: body.data, meta: { submitted_at: new Date().toISOString() } },
      { jobId: id, priority: 50 },
    )
    .then(() => res.status(202).json({ task_id: id, status: 'queued' }))
    .catch((error: Error) => res.status(503).json({ detail: error.message }));
});
app.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
