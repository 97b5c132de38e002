import type { KeysMap } from 'bullmq';
import { moveToActive } from 'bullmq/dist/cjs/scripts/moveToActive-11';

/**
 * The BullMQ release whose own Lua the scripts below wrap, as package.json pins it exactly.
 * The keys and arguments those scripts take are laid out here as BullMQ lays them out
 * (RedisQueueBackend.moveToActive); queue-scripts.spec.ts fails when the release, a wrapped
 * script or that layout changes, so that an upgrade is a deliberate change of this file.
 */
export const BULLMQ_VERSION = '6.7.0';

/** moveToActive's keys, in BullMQ's order (`KEYS[1]` wait … `KEYS[11]` marker). */
export const TAKE_KEY_NAMES = [
  'wait',
  'active',
  'prioritized',
  'events',
  'stalled',
  'limiter',
  'delayed',
  'paused',
  'meta',
  'pc',
  'marker',
] as const satisfies readonly (keyof KeysMap)[];

/**
 * Takes the first task of the first non-empty queue, in the order given, in one atomic call:
 * BullMQ's own moveToActive (promote due delayed jobs, skip a paused queue, lock the job,
 * count its start) run on each queue in turn until one yields a job. A worker process used
 * to call it once per queue, so a `low` task cost three round trips, and a `high` task queued
 * between two of those calls could be passed over for a `medium` one.
 *
 * KEYS: moveToActive's 11 keys of each queue, in priority order (all under one `{prefix}` hash
 * tag on a cluster). ARGV: lock token, lock ms, worker name, now (ms), then each queue's key
 * prefix (`<prefix>:<queue>:`). Reply: `{q, job hash as a flat array, job id}` for a job of
 * the q-th queue, or `{0}` when every queue is empty, paused or rate limited.
 */
export const TAKE_LUA = `
local function bullmqMoveToActive(KEYS, ARGV)
${moveToActive.content}
end
local opts = cmsgpack.pack({token = ARGV[1], lockDuration = tonumber(ARGV[2]), name = ARGV[3]})
for q = 1, #KEYS / ${moveToActive.keys} do
  local first = (q - 1) * ${moveToActive.keys}
  local taken = bullmqMoveToActive({unpack(KEYS, first + 1, first + ${moveToActive.keys})},
    {ARGV[4 + q], ARGV[4], opts})
  if type(taken[1]) == 'table' then return {q, taken[1], taken[2]} end
end
return {0}
`;

/** The keys TAKE_LUA needs, for queues whose BullMQ keys are `keys`, in priority order. */
export function takeKeys(keys: readonly KeysMap[]): string[] {
  return keys.flatMap((k) => TAKE_KEY_NAMES.map((name) => k[name]));
}

/** The arguments TAKE_LUA needs after the keys. */
export function takeArgs(
  keys: readonly KeysMap[],
  lock: { token: string; ms: number; workerName: string },
  now = Date.now(),
): string[] {
  return [lock.token, String(lock.ms), lock.workerName, String(now), ...keys.map((k) => k[''])];
}
