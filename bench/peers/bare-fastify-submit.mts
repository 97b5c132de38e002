// Peer of POST /api/v1/tasks in the submit benchmark, beside the bare Express one: a bare
// Fastify route doing the same work (no validation, BullMQ's queue.add, a 202 JSON reply), so
// that the goal is measured against the faster of the two bare servers, not the slower.
import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';

const [port, prefix] = process.argv.slice(2);
const queue = new Queue('medium', {
  connection: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
  prefix,
});
const app = Fastify({ logger: false });
app.post('/api/v1/tasks', async (request, reply) => {
  const body = request.body as { type: string; data: unknown };
  const id = randomUUID();
  try {
    await queue.add(
      body.type,
      { input: body.data, meta: { submitted_at: new Date().toISOString() } },
      { jobId: id, priority: 50 },
    );
    return reply.code(202).send({ task_id: id, status: 'queued' });
  } catch (error) {
    return reply.code(503).send({ detail: (error as Error).message });
  }
});
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.stdout.write('ready\n');
