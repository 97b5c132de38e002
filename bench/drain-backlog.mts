// The drain benchmarks' backlog: no-op echo tasks on a paused `medium` queue, written as the
// API would (priority 50, three attempts), so that every worker process meets the whole of it.
import type { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';

/** Pauses `queue` and adds `count` echo tasks to it, 1,000 per request. */
export async function queueEchoBacklog(queue: Queue, count: number): Promise<void> {
  await queue.pause();
  for (let i = 0; i < count; i += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, count - i) }, () => ({
        name: 'echo',
        data: {
          input: {},
          meta: { submitted_at: new Date().toISOString(), correlation_id: randomUUID() },
        },
        opts: {
          jobId: randomUUID(),
          priority: 50,
          attempts: 3,
          removeOnComplete: { age: 3600 },
          removeOnFail: { age: 3600 },
        },
      })),
    );
  }
}
