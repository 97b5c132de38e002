import { type Job, QueueKeys, RedisQueueBackend } from 'bullmq';
import { moveToActive } from 'bullmq/dist/cjs/scripts/moveToActive-11';
import { moveToFinished } from 'bullmq/dist/cjs/scripts/moveToFinished-14';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BULLMQ_VERSION,
  FINISH_AND_TAKE_LUA,
  FINISH_ARGS,
  FINISH_KEY_NAMES,
  TAKE_KEY_NAMES,
} from './queue-scripts';

const root = join(__dirname, '..', '..');
const json = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(root, path), 'utf8')) as Record<string, unknown>;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * What queue-scripts.ts was written against in BullMQ 6.7.0, as reviewed: the Lua of the two
 * scripts it wraps, and the source of RedisQueueBackend.moveToFinishedArgs, which builds the
 * completion's 14 keys and 9 arguments (fetch-next 6th, job fields to update 9th).
 */
const REVIEWED = {
  moveToActive: '7d35069db0b831af1bd1b2d5eb8d524e86fc7d3280b8c684a96b6614bad7d79a',
  moveToFinished: '8e744ec5d65dbe9e7ffb6e39a96c0268bba65e4f0b1d04e2d2a42ccb71b45a6d',
  moveToFinishedArgs: 'c0d6d9c7df54de57c29cb341d30ef917c79b86983a5923718050724cfcc5522e',
};

/** Fails loudly when a BullMQ upgrade changes what the worker's scripts are built from. */
describe('queue scripts: the BullMQ they wrap', () => {
  it('is the exact BullMQ release package.json pins, and the one installed', () => {
    const dependencies = json('package.json').dependencies as Record<string, string>;
    expect(dependencies.bullmq).toBe(BULLMQ_VERSION);
    expect(json('node_modules/bullmq/package.json').version).toBe(BULLMQ_VERSION);
  });

  it('wraps moveToActive as reviewed: the same Lua, the same 11 keys', () => {
    // On a mismatch, read the new script and the BullMQ code that calls it, adapt
    // queue-scripts.ts and task-taker.ts, then record the new hash here.
    expect(sha256(moveToActive.content)).toBe(REVIEWED.moveToActive);
    expect(moveToActive.keys).toBe(TAKE_KEY_NAMES.length);
    expect(FINISH_AND_TAKE_LUA).toContain(moveToActive.content);
  });

  it('wraps moveToFinished as reviewed, with its arguments built by BullMQ as reviewed', () => {
    expect(sha256(moveToFinished.content)).toBe(REVIEWED.moveToFinished);
    expect(moveToFinished.keys).toBe(FINISH_KEY_NAMES.length);
    expect(FINISH_AND_TAKE_LUA).toContain(moveToFinished.content);
    expect(sha256(RedisQueueBackend.prototype['moveToFinishedArgs'].toString())).toBe(
      REVIEWED.moveToFinishedArgs,
    );
  });

  it("lays out moveToActive's keys and arguments as BullMQ itself calls it", () => {
    const source = RedisQueueBackend.prototype.moveToActive.toString();
    const keys = /const keys = \[([^\]]*)\]/.exec(source)?.[1] ?? '';
    expect([...keys.matchAll(/queueKeys\.(\w+)/g)].map((m) => m[1])).toEqual(TAKE_KEY_NAMES);
    const args = /const args = \[([\s\S]*?)\];/.exec(source)?.[1].replace(/\s+/g, ' ').trim();
    expect(args).toBe(
      "queueKeys[''], Date.now(), pack({ token, lockDuration: opts.lockDuration, limiter: opts.limiter, name, }),",
    );
  });

  // The script builds these keys itself, each as the queue's key prefix and a name
  // (test/integration/queue-scripts.int-spec.ts shows it on Redis with BullMQ's own objects).
  describe("the keys the script builds from a queue's key prefix", () => {
    const queueKeys = new QueueKeys('{tl-spec}');
    const keys = queueKeys.getKeys('medium');
    const prefix = keys[''];

    it("are moveToActive's keys, as BullMQ's QueueKeys names them", () => {
      expect(prefix).toBe('{tl-spec}:medium:');
      expect(TAKE_KEY_NAMES.map((name) => prefix + name)).toEqual(
        TAKE_KEY_NAMES.map((name) => keys[name]),
      );
    });

    it("are the 14 keys BullMQ's own moveToFinishedArgs builds for a completion", () => {
      // A backend that never connects: its constructor and moveToFinishedArgs only build keys.
      const backend = new RedisQueueBackend(
        {} as ConstructorParameters<typeof RedisQueueBackend>[0],
        'medium',
        keys,
        (type: string) => queueKeys.toKey('medium', type),
        { connection: {} },
        undefined,
        false,
      );
      const job = { id: 'task-1', opts: { attempts: 3 } } as Job;

      const built = backend['moveToFinishedArgs'](
        job,
        '{}',
        'returnvalue',
        undefined,
        'completed',
        'token',
        0,
        false,
      ) as unknown[];

      expect(built).toHaveLength(FINISH_KEY_NAMES.length + FINISH_ARGS);
      expect(built.slice(0, FINISH_KEY_NAMES.length)).toEqual(
        FINISH_KEY_NAMES.map((name) => prefix + (name === '' ? job.id : name)),
      );
    });
  });
});
