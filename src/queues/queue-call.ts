import type { IRedisTransaction } from 'bullmq';
import * as bullmqScripts from 'bullmq/dist/cjs/scripts';
import type { ScriptCall } from '../redis/redis.repository';
import { ROTATION_PLACES } from './fair-priority';

/**
 * One BullMQ job insert, as a call of a Lua function that another script makes:
 * `queueTask(keys, args, rank)` adds the job exactly as BullMQ's own script would (it is that
 * script), with the job's priority set from `rank`, its place in the fair rotation
 * (fairPriority), known only inside the calling script.
 */
export interface QueueCall extends ScriptCall {
  /** Names the Lua text: calls with the same name share it (and its SHA1). */
  name: string;
  /** Defines `local function queueTask(keys, args, rank)`, which returns the job id. */
  lua: string;
}

const BULLMQ_SCRIPTS = new Map<string, { content: string; keys: number }>(
  Object.entries(bullmqScripts).map(([name, script]) => [name, script]),
);

/** The Lua of each BullMQ script wrapped as `queueTask`, made once per script. */
const wrapped = new Map<string, string>();

/**
 * What BullMQ sends to add a job, caught instead of sent: `Job.addJob` hands its one script
 * call (`runCommand`) to the transaction it is given, which is this.
 */
class CaughtCall implements IRedisTransaction {
  name = '';
  args: (string | Buffer | number)[] = [];

  runCommand(name: string, args: (string | Buffer | number)[]): this {
    if (this.name !== '') throw new Error(`BullMQ sent a second command (${name}) to add one job`);
    this.name = name;
    this.args = args;
    return this;
  }

  hgetall(): this {
    return this.unexpected('hgetall');
  }
  hset(): this {
    return this.unexpected('hset');
  }
  hscan(): this {
    return this.unexpected('hscan');
  }
  smembers(): this {
    return this.unexpected('smembers');
  }
  sscan(): this {
    return this.unexpected('sscan');
  }
  zrange(): this {
    return this.unexpected('zrange');
  }
  lrange(): this {
    return this.unexpected('lrange');
  }
  llen(): this {
    return this.unexpected('llen');
  }
  del(): this {
    return this.unexpected('del');
  }
  exec(): Promise<[Error | null, unknown][] | null> {
    return Promise.reject(new Error('BullMQ executed the caught job insert'));
  }

  private unexpected(command: string): never {
    throw new Error(`BullMQ sent ${command} to add one job; only its add script is expected`);
  }
}

/**
 * Turns BullMQ's insert of one job (`add(transaction)`: `Job.addJob`) into a {@link QueueCall}.
 * @throws Error when BullMQ added the job some other way than with one of its scripts (a
 * BullMQ upgrade that changed how): the submit path cannot run, and says so
 */
export async function queueCall(
  add: (transaction: IRedisTransaction) => Promise<unknown>,
): Promise<QueueCall> {
  const caught = new CaughtCall();
  await add(caught);
  const name = caught.name.split(':')[0];
  const script = BULLMQ_SCRIPTS.get(name);
  if (!script || caught.args.length < script.keys) {
    throw new Error(
      `BullMQ added a job with "${caught.name}", which is not one of the scripts of bullmq/dist/cjs/scripts this version ships; the one-round-trip submit needs it`,
    );
  }
  let lua = wrapped.get(name);
  if (lua === undefined) {
    lua = wrap(script.content);
    wrapped.set(name, lua);
  }
  return {
    name,
    lua,
    keys: caught.args.slice(0, script.keys).map(String),
    args: caught.args.slice(script.keys),
  };
}

/**
 * BullMQ's script as a function of its KEYS and ARGV (it reads no other global), behind one
 * that sets the job's priority in its options (ARGV[3], msgpack) from the fair rotation: the
 * same formula as fairPriority, for the client-given `priority` the options hold.
 */
function wrap(content: string): string {
  return `
local function bullmqAdd(KEYS, ARGV)
${content}
end
local function queueTask(keys, args, rank)
  local opts = cmsgpack.unpack(args[3])
  local place = math.max(0, math.min(math.floor(tonumber(rank)), ${ROTATION_PLACES - 1}))
  opts['priority'] = (tonumber(opts['priority']) - 1) * ${ROTATION_PLACES} + place + 1
  args[3] = cmsgpack.pack(opts)
  return bullmqAdd(keys, args)
end
`;
}
