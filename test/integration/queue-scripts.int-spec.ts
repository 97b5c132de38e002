// The worker's script (src/queues/queue-scripts.ts) builds the keys it hands BullMQ's own
// moveToFinished and moveToActive from each queue's key prefix, rather than being sent them:
// shown here, on the real Redis, equal to the keys and arguments BullMQ itself builds.
import { type Job, Queue, type RedisQueueBackend, Worker } from 'bullmq';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { TASK_QUEUES, type TaskQueue } from '../../src/config/queue-names';
import { finishAndTakeLua, FINISH_KEY_NAMES } from '../../src/queues/queue-scripts';
import type { TaskEnvelope } from '../../src/queues/task';
import { TaskTaker } from '../../src/workers/task-taker';
import { deleteKeys } from '../support/in-process';
import { REDIS_URL } from '../support/services';

const LOCK_MS = 30_000;
const WORKER_NAME = 'test-worker';

/** What one wrapped script was handed. */
interface Handed {
  script: string;
  keys: string[];
  args: Buffer[];
}

/** BullMQ's builders, protected in its types. */
type Builders = RedisQueueBackend & {
  moveToFinishedArgs(
    job: Job,
    value: string,
    property: 'returnvalue',
    shouldRemove: unknown,
    target: 'completed',
    token: string,
    timestamp: number,
    fetchNext: boolean,
    fieldsToUpdate?: Record<string, string>,
  ): (string | number | Buffer | undefined)[];
  execCommand(client: unknown, name: string, args: unknown[]): Promise<unknown>;
};

/** An argument as Redis receives it from ioredis. */
const wire = (value: string | number | Buffer | undefined): Buffer =>
  Buffer.isBuffer(value) ? value : Buffer.from(value === undefined ? '' : String(value));

describe("the worker's script hands BullMQ's Lua what BullMQ builds", () => {
  let prefix: string;
  let log: string;
  let connection: Redis;
  let queue: Queue;
  let workers: Worker<TaskEnvelope>[];

  beforeEach(() => {
    prefix = `tl-int-${randomUUID().slice(0, 8)}`;
    log = `${prefix}:handed`;
    connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    queue = new Queue('medium', { connection, prefix });
    workers = TASK_QUEUES.map(
      (name: TaskQueue) =>
        new Worker<TaskEnvelope>(name, null, {
          connection,
          prefix,
          autorun: false,
          lockDuration: LOCK_MS,
        }),
    );
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(workers.map((w) => w.close()));
    await queue.close();
    await connection.quit();
    await deleteKeys(prefix);
  });

  /** The script with BullMQ's bodies replaced by ones that write down what they are handed. */
  function recordingLua(): string {
    const record = (script: string): string => `
redis.call('RPUSH', '${log}', '${script}', #KEYS, unpack(KEYS))
redis.call('RPUSH', '${log}', #ARGV, unpack(ARGV))`;
    return finishAndTakeLua(
      `${record('moveToFinished')}\nreturn 0`,
      `${record('moveToActive')}\nreturn {}`,
    );
  }

  async function handed(): Promise<Handed[]> {
    const items = await connection.lrangeBuffer(log, 0, -1);
    const calls: Handed[] = [];
    for (let at = 0; at < items.length;) {
      const script = items[at++].toString();
      const keyCount = Number(items[at++].toString());
      const keys = items.slice(at, (at += keyCount)).map(String);
      const argCount = Number(items[at++].toString());
      calls.push({ script, keys, args: items.slice(at, (at += argCount)) });
    }
    return calls;
  }

  /** A msgpack value as Redis's cmsgpack, which BullMQ's Lua unpacks it with, reads it. */
  async function unpacked(packed: Buffer): Promise<unknown> {
    const json = await connection.eval('return cjson.encode(cmsgpack.unpack(ARGV[1]))', 0, packed);
    return JSON.parse(json as string) as unknown;
  }

  it('on a completion that takes the next task: the same keys and arguments', async () => {
    await queue.add(
      'echo',
      { input: '1', meta: { submitted_at: new Date().toISOString() } },
      { jobId: 'medium-1', priority: 50, attempts: 3, removeOnComplete: { age: 3600 } },
    );
    const taker = new TaskTaker(connection, workers, { ms: LOCK_MS, workerName: WORKER_NAME });
    const job = await taker.take('test:1');
    if (!job) throw new Error('no task to take');
    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now);
    const result = { ok: 1 };
    const medium = workers[1].backend as Builders;
    const finish = medium.moveToFinishedArgs(
      job,
      JSON.stringify(result),
      'returnvalue',
      job.opts.removeOnComplete,
      'completed',
      'test:1',
      now,
      false,
      { data: JSON.stringify({ ...job.data, input: null }) },
    );
    const takes: unknown[][] = [];
    for (const worker of workers) {
      const backend = worker.backend as Builders;
      jest.spyOn(backend, 'execCommand').mockImplementation((_client, _name, args) => {
        takes.push(args);
        return Promise.resolve([]);
      });
      await backend.moveToActive('test:2', WORKER_NAME);
    }
    const sent = jest.spyOn(connection, 'sendCommand');

    await taker.complete(job, 'test:1', result, 'test:2');
    // The very call the taker sent, replayed on the recording script.
    const [command] = sent.mock.calls[0];
    sent.mockRestore();
    await connection.call(
      'EVAL',
      recordingLua(),
      ...(command.args.slice(1) as (string | Buffer)[]),
    );
    const [finished, ...taken] = await handed();

    const keyCount = FINISH_KEY_NAMES.length;
    expect(finished.script).toBe('moveToFinished');
    expect(finished.keys).toEqual(finish.slice(0, keyCount));
    expect(finished.args).toEqual(finish.slice(keyCount).map(wire));
    expect(taken.map((call) => call.script)).toEqual([
      'moveToActive',
      'moveToActive',
      'moveToActive',
    ]);
    for (const [q, call] of taken.entries()) {
      const bullmq = takes[q] as (string | number | Buffer)[];
      expect(call.keys).toEqual(bullmq.slice(0, -3));
      const [queuePrefix, timestamp, opts] = bullmq.slice(-3);
      expect(call.args.slice(0, 2)).toEqual([queuePrefix, timestamp].map(wire));
      // cmsgpack and BullMQ's msgpackr pack the same options into different bytes.
      expect(await unpacked(call.args[2])).toEqual(await unpacked(wire(opts)));
    }
  });
});
