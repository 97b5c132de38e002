import { RedisQueueBackend } from 'bullmq';
import { moveToActive } from 'bullmq/dist/cjs/scripts/moveToActive-11';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BULLMQ_VERSION, TAKE_KEY_NAMES, TAKE_LUA } from './queue-scripts';

const root = join(__dirname, '..', '..');
const json = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(root, path), 'utf8')) as Record<string, unknown>;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The Lua of BullMQ 6.7.0's scripts that queue-scripts.ts wraps, as reviewed. */
const REVIEWED = {
  moveToActive: '7d35069db0b831af1bd1b2d5eb8d524e86fc7d3280b8c684a96b6614bad7d79a',
};

/** Fails loudly when a BullMQ upgrade changes what the worker's scripts are built from. */
describe('queue scripts: the BullMQ they wrap', () => {
  it('is the exact BullMQ release package.json pins, and the one installed', () => {
    const dependencies = json('package.json').dependencies as Record<string, string>;
    expect(dependencies.bullmq).toBe(BULLMQ_VERSION);
    expect(json('node_modules/bullmq/package.json').version).toBe(BULLMQ_VERSION);
  });

  it('wraps moveToActive as reviewed: the same Lua, the same 11 keys', () => {
    // On a mismatch, read the new script and RedisQueueBackend.moveToActive, adapt
    // queue-scripts.ts, then record the new hash here.
    expect(sha256(moveToActive.content)).toBe(REVIEWED.moveToActive);
    expect(moveToActive.keys).toBe(TAKE_KEY_NAMES.length);
    expect(TAKE_LUA).toContain(moveToActive.content);
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
});
