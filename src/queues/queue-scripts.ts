import type { KeysMap } from 'bullmq';
import { moveToActive } from 'bullmq/dist/cjs/scripts/moveToActive-11';
import { moveToFinished } from 'bullmq/dist/cjs/scripts/moveToFinished-14';

/**
 * The BullMQ release whose own Lua the script below wraps, as package.json pins it exactly.
 * The keys and arguments of moveToActive are laid out here as BullMQ lays them out
 * (RedisQueueBackend.moveToActive), the arguments of moveToFinished by BullMQ's own
 * moveToFinishedArgs and its keys as that and BullMQ's QueueKeys build them;
 * queue-scripts.spec.ts fails when the release, a wrapped script or that layout changes, so
 * that an upgrade is a deliberate change of this file, and test/integration's
 * queue-scripts.int-spec.ts shows the keys and arguments the script hands BullMQ's Lua equal
 * to those BullMQ builds.
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
 * moveToFinished's keys on completion (`KEYS[1]` wait … `KEYS[14]` marker), each the queue's
 * key prefix followed by its name here, as BullMQ builds them (the first ten in its
 * RedisQueueBackend constructor, the last four in moveToFinishedArgs); '' stands for the
 * task's id (`KEYS[12]`, the job's hash).
 */
export const FINISH_KEY_NAMES = [
  ...TAKE_KEY_NAMES.slice(0, 10),
  'completed',
  '',
  'metrics:completed',
  'marker',
] as const;

/** moveToFinished's arguments (`ARGV[1]` job id … `ARGV[9]` job fields to update). */
export const FINISH_ARGS = 9;

const luaList = (names: readonly string[]): string => `{'${names.join("', '")}'}`;

/**
 * The Lua of FINISH_AND_TAKE_LUA around the given bodies of moveToFinished and moveToActive:
 * BullMQ's own, or (in a test) stand-ins that record what they are handed.
 */
export function finishAndTakeLua(moveToFinishedBody: string, moveToActiveBody: string): string {
  return `
local function bullmqMoveToFinished(KEYS, ARGV)
${moveToFinishedBody}
end
local function bullmqMoveToActive(KEYS, ARGV)
${moveToActiveBody}
end
local function keysOf(prefix, names)
  local keys = {}
  for i = 1, #names do keys[i] = prefix .. names[i] end
  return keys
end
local queues = tonumber(ARGV[1])
local now, token, finished = ARGV[queues + 4], ARGV[queues + 5], tonumber(ARGV[queues + 6])
local upTo = math.min(queues, tonumber(ARGV[queues + 7]))
if finished > 0 then
  local finishNames = ${luaList(FINISH_KEY_NAMES)}
  finishNames[12] = ARGV[queues + 8]
  local code = bullmqMoveToFinished(keysOf(ARGV[1 + finished], finishNames),
    {unpack(ARGV, queues + 8, queues + ${7 + FINISH_ARGS})})
  if code ~= 0 then return {code} end
end
if token == '' then return {0} end
local takeNames = ${luaList(TAKE_KEY_NAMES)}
local opts = cmsgpack.pack({token = token, lockDuration = tonumber(ARGV[queues + 2]), name = ARGV[queues + 3]})
for q = 1, upTo do
  local prefix = ARGV[1 + q]
  local taken = bullmqMoveToActive(keysOf(prefix, takeNames), {prefix, now, opts})
  if type(taken[1]) == 'table' then return {q, taken[1], taken[2]} end
end
return {0}
`;
}

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
 * The script builds the keys it hands BullMQ's scripts from each queue's key prefix
 * (`<prefix>:<queue>:`), as BullMQ does: sending them would cost 14 keys per completion and
 * 11 per served queue, encoded on every call. KEYS: one key, which the script does not read:
 * it routes the call, on a Redis Cluster, to the node of the `{prefix}` hash tag that every
 * key of a worker shares (Redis lets a script use the keys of its own slot). ARGV: the number
 * of served queues, their key prefixes in priority order, lock ms, worker name (these built
 * once per worker: takerScript), then now (ms), the lock token to take the next task with
 * ('' to take none), the served queue (1-based) of the task to complete (0 for none), the
 * last served queue to take from (the first `upTo`: a sharded worker takes no task of a lower
 * class than one waiting on another shard) and moveToFinished's 9 arguments. Reply: `{code}`, BullMQ's negative code when the completion
 * failed; `{q, job hash as a flat array, job id}` for a job taken from the q-th queue; `{0}`
 * when none was.
 */
export const FINISH_AND_TAKE_LUA = finishAndTakeLua(moveToFinished.content, moveToActive.content);

/** What every call of FINISH_AND_TAKE_LUA of one worker begins with: built once per worker. */
export type TakerScript = readonly string[];

/**
 * The constant head of a worker's calls, for queues whose BullMQ keys are `queues` (in
 * priority order): the number of keys, the routing key, then the first arguments.
 */
export function takerScript(
  queues: readonly KeysMap[],
  lock: { ms: number; workerName: string },
): TakerScript {
  if (queues.length === 0) throw new Error('a worker serves at least one queue');
  return [
    '1',
    queues[0].wait,
    String(queues.length),
    ...queues.map((k) => k['']),
    String(lock.ms),
    lock.workerName,
  ];
}

/** More than any worker serves: "take from every served queue". */
const TASK_QUEUES_MAX = 99;

/**
 * The first of a shard's served queues (1-based, in priority order, as in FINISH_AND_TAKE_LUA)
 * holding a task ready to take: waiting, prioritized, or delayed (a retry's backoff) and due,
 * which BullMQ's take then promotes (its delayed set is scored `timestamp * 0x1000 + counter`,
 * as its promoteDelayedJobs reads it); 0 when none does. KEYS: the routing key of the shard's
 * slot (not read). ARGV: now (ms), then the served queues' key prefixes, in priority order.
 */
export const PEEK_LUA = `
local due = (tonumber(ARGV[1]) + 1) * 0x1000 - 1
for q = 2, #ARGV do
  local prefix = ARGV[q]
  if redis.call('LLEN', prefix .. 'wait') > 0 or redis.call('ZCARD', prefix .. 'prioritized') > 0
    or #redis.call('ZRANGEBYSCORE', prefix .. 'delayed', 0, due, 'LIMIT', 0, 1) > 0 then
    return q - 1
  end
end
return 0
`;

/** A value of a call: ioredis sends a number as its digits and undefined as ''. */
export type ScriptValue = string | number | Buffer | undefined;

/** What one call of FINISH_AND_TAKE_LUA does besides taking with its token. */
export interface FinishAndTake {
  /** The served queue (1-based) of the task to complete; 0 (the default) for none. */
  finished?: number;
  /** What BullMQ's moveToFinishedArgs returns for that task. */
  finish?: readonly ScriptValue[];
  /** Take only from the first `upTo` served queues; all of them by default. */
  upTo?: number;
}

/**
 * The whole of a call of FINISH_AND_TAKE_LUA, as ioredis takes its arguments (it flattens one
 * level of arrays, so the worker's constant head is not copied here): take the next task with
 * `token` ('' for none) from the first `upTo` served queues, and complete the task of the
 * `finished`-th served queue (0 for none), given what BullMQ's moveToFinishedArgs returns for
 * it (14 keys, left out: the script builds them; then 9 arguments, fetch-next off).
 */
export function finishAndTakeCall(
  script: TakerScript,
  now: number,
  token: string,
  { finished = 0, finish = [], upTo = TASK_QUEUES_MAX }: FinishAndTake = {},
): (TakerScript | ScriptValue)[] {
  const call: (TakerScript | ScriptValue)[] = [script, now, token, finished, upTo];
  for (let i = FINISH_KEY_NAMES.length; i < finish.length; i++) call.push(finish[i]);
  return call;
}
