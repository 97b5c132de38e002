// The 202 never reaches the client: the connection is cut after the API accepted the task
// (or while it is still deciding), and the client retries with the same Idempotency-Key, as
// a client should after a network error. Exactly one task exists per key, every time.
import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { eventually, REDIS_URL } from '../support/services';
import { TestStack, type Task } from '../support/stack';
import { recordScenario, scaled } from './chaos';

const KEYS = scaled(200, 40);

/**
 * Sends a POST over a raw socket and cuts the connection, unread: when the answer's first
 * bytes arrive (`after: 'answer'`) or as soon as the request is written (`after: 'request'`).
 */
function postAndCut(port: number, key: string, body: string, after: 'answer' | 'request') {
  return new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        [
          'POST /api/v1/tasks HTTP/1.1',
          `Host: 127.0.0.1:${port}`,
          'Content-Type: application/json',
          `Content-Length: ${Buffer.byteLength(body)}`,
          `Idempotency-Key: ${key}`,
          '',
          body,
        ].join('\r\n'),
        () => {
          if (after === 'request') {
            socket.destroy();
            resolve();
          }
        },
      );
    });
    socket.once('readable', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

describe('chaos: the 202 is lost on its way to the client', () => {
  const stack = new TestStack();
  beforeAll(async () => {
    await stack.startApi();
    await stack.startWorker();
  });
  afterAll(() => stack.stop());

  it(`makes exactly one task per Idempotency-Key over ${KEYS} cut connections and retries`, async () => {
    const port = Number(new URL(stack.baseUrl).port);
    const retried: Task[] = [];
    let replayed = 0;
    for (let i = 0; i < KEYS; i++) {
      const key = `lost-${randomUUID()}`;
      const body = { type: 'echo', data: { message: `lost ${i}` } };
      await postAndCut(port, key, JSON.stringify(body), i % 2 ? 'answer' : 'request');
      // The retry may meet the first request still in progress: 409, retry after Retry-After.
      for (;;) {
        const reply = await stack.request<Task>('POST', '/api/v1/tasks', body, {
          'Idempotency-Key': key,
        });
        if (reply.status === 409) {
          await new Promise((r) => setTimeout(r, 1000 * Number(reply.headers.get('retry-after'))));
          continue;
        }
        expect(reply.status).toBe(202);
        if (reply.headers.get('idempotent-replayed') === 'true') replayed += 1;
        retried.push(reply.body);
        break;
      }
    }

    const distinct = new Set(retried.map((t) => t.task_id)).size;
    const queue = new Queue('medium', { connection: { url: REDIS_URL }, prefix: stack.prefix });
    const counts = await eventually(async () => {
      const now = await queue.getJobCounts(
        'waiting',
        'prioritized',
        'active',
        'completed',
        'failed',
      );
      return now.completed + now.failed >= distinct ? now : undefined;
    }, 'the tasks to finish');
    await queue.close();
    const stored = Object.values(counts).reduce((sum, n) => sum + n, 0);
    recordScenario({
      scenario: 'lost response',
      load: `${KEYS} submits with an Idempotency-Key`,
      faults: `${KEYS} connections cut (half after the answer, half after the request)`,
      tasks: {
        accepted: distinct,
        completed: counts.completed,
        lost: Math.max(0, KEYS - stored),
        duplicated: Math.max(0, stored - KEYS),
      },
    });

    expect(distinct).toBe(KEYS);
    expect(stored).toBe(KEYS);
    expect(counts.completed).toBe(KEYS);
    // Those cut after the answer began were accepted the first time: their retry is a replay.
    expect(replayed).toBeGreaterThanOrEqual(KEYS / 2);
  }, 300_000);
});
