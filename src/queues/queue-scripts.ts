import type { KeysMap } from 'bullmq';
import { moveToActive } from 'bullmq/dist/cjs/scripts/moveToActive-11';
import { moveToFinished } from 'bullmq/dist/cjs/scripts/moveToFinished-14';

/**
 * The BullMQ release whose own Lua the script below wraps, as package.json pins it exactly.
 * The keys and arguments of moveToActive are laid out here as BullMQ lays them out
 * (RedisQueueBackend.moveToActive), those of moveToFinished by BullMQ's own
 * moveToFinishedArgs; queue-scripts.spec.ts fails when the release, a wrapped
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

/** moveToFinished's keys (`KEYS[1]` wait … `KEYS[14]` marker) and arguments. */
export const FINISH_KEYS = 14;
export const FINISH_ARGS = 9;

/**
 * Records a task's completion and takes the next task, in one atomic call; either part may be
 * left out. The completion is BullMQ's own moveToFinished (check the lock, store the result,
 * update the given job fields, release a parent whose last child this was), without its
 * fetch-next. The take is BullMQ's own moveToActive (promote due delayed jobs, skip a paused
 * queue, lock the job, count its start) run on each served queue in priority order until one
 * yields a job. BullMQ's own fetch-next takes from the finished job's queue only, which would
 * pass over a `high` task for the next `medium` one; a take from each queue in its own call
 * costs a round trip per queue, and lets a task arrive in a higher queue between two calls.
 * Nothing is taken when the completion fails.
 *
 * KEYS: moveToFinished's 14 keys of the finished task's queue (when completing), then
 * moveToActive's 11 keys of each queue to take from, in priority order; all under one
 * `{prefix}` hash tag on a cluster. ARGV: the number of completion keys (0 or 14), lock token,
 * lock ms, worker name, now (ms), each queue's key prefix (`<prefix>:<queue>:`), then
 * moveToFinished's 9 arguments (when completing). Reply: `{code}`, BullMQ's negative code
 * when the completion failed; `{q, job hash as a flat array, job id}` for a job taken from
 * the q-th queue; `{0}` when none was.
 */
export const FINISH_AND_TAKE_LUA = `
local function bullmqMoveToFinished(KEYS, ARGV)
${moveToFinished.content}
end
local function bullmqMoveToActive(KEYS, ARGV)
${moveToActive.content}
end
local finishKeys = tonumber(ARGV[1])
local queues = (#KEYS - finishKeys) / ${moveToActive.keys}
if finishKeys > 0 then
  local code = bullmqMoveToFinished({unpack(KEYS, 1, finishKeys)}, {unpack(ARGV, 6 + queues, #ARGV)})
  if code ~= 0 then return {code} end
end
local opts = cmsgpack.pack({token = ARGV[2], lockDuration = tonumber(ARGV[3]), name = ARGV[4]})
for q = 1, queues do
  local first = finishKeys + (q - 1) * ${moveToActive.keys}
  local taken = bullmqMoveToActive({unpack(KEYS, first + 1, first + ${moveToActive.keys})},
    {ARGV[5 + q], ARGV[5], opts})
  if type(taken[1]) == 'table' then return {q, taken[1], taken[2]} end
end
return {0}
`;

/** A call of FINISH_AND_TAKE_LUA: its keys, then its arguments. */
export interface ScriptCall {
  numberOfKeys: number;
  keysThenArgs: (string | Buffer)[];
}

/** What FINISH_AND_TAKE_LUA needs of the queues to take from, in priority order. */
export interface TakeFrom {
  keys: string[];
  prefixes: string[];
}

/** The take part of a call, for queues whose BullMQ keys are `queues`: built once per worker. */
export function takeFrom(queues: readonly KeysMap[]): TakeFrom {
  return {
    keys: queues.flatMap((k) => TAKE_KEY_NAMES.map((name) => k[name])),
    prefixes: queues.map((k) => k['']),
  };
}

const NOTHING: TakeFrom = { keys: [], prefixes: [] };

/**
 * The call that completes a task, when `finish` is given (what BullMQ's moveToFinishedArgs
 * returns: 14 keys, then 9 arguments, fetch-next off), and takes the next task from the
 * queues of `take`, in priority order (none: take nothing).
 */
export function finishAndTakeCall(
  take: TakeFrom | undefined,
  lock: { token: string; ms: number; workerName: string },
  finish?: readonly (string | number | boolean | Buffer | undefined)[],
  now = Date.now(),
): ScriptCall {
  const { keys, prefixes } = take ?? NOTHING;
  const finishKeys = finish ? (finish.slice(0, FINISH_KEYS) as string[]) : [];
  const finishArgs = finish
    ? finish
        .slice(FINISH_KEYS)
        .map((value) => (value === undefined ? '' : Buffer.isBuffer(value) ? value : String(value)))
    : [];
  return {
    numberOfKeys: finishKeys.length + keys.length,
    keysThenArgs: [
      ...finishKeys,
      ...keys,
      String(finishKeys.length),
      lock.token,
      String(lock.ms),
      lock.workerName,
      String(now),
      ...prefixes,
      ...finishArgs,
    ],
  };
}
