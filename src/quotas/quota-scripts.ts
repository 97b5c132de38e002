// The Lua of the per-client quotas (QuotaRepository): each script changes one shard's keys.
import { LuaScript } from '../redis/lua-script';

// One hash per client: a field per unfinished submission ("tasks:bytes"), and the two totals;
// and one sorted set of every claim, scored by when the housekeeping sweep should check it.
// A claim is idempotent by task id, so that a retried submission never counts twice.
// A Lua function, so that the one-round-trip submit (src/tasks/submit-script.ts) runs it too.
/**
 * `claimQuota(quotaKey, checksKey, taskId, tasks, bytes, maxTasks, maxBytes, client, checkAt)`:
 * `{granted (1 or 0), refused ('tasks', 'bytes' or ''), tasks held before, bytes held before}`.
 */
export const CLAIM_QUOTA_LUA = `
local function claimQuota(quotaKey, checksKey, taskId, askTasks, askBytes, maxTasks, maxBytes, client, checkAt)
  local held = redis.call('HGET', quotaKey, taskId)
  local tasks = tonumber(redis.call('HGET', quotaKey, '#tasks') or '0')
  local bytes = tonumber(redis.call('HGET', quotaKey, '#bytes') or '0')
  if held then return {1, '', tasks, bytes} end
  if tasks + tonumber(askTasks) > tonumber(maxTasks) then return {0, 'tasks', tasks, bytes} end
  if bytes + tonumber(askBytes) > tonumber(maxBytes) then return {0, 'bytes', tasks, bytes} end
  redis.call('HSET', quotaKey, taskId, askTasks .. ':' .. askBytes)
  redis.call('HINCRBY', quotaKey, '#tasks', askTasks)
  redis.call('HINCRBY', quotaKey, '#bytes', askBytes)
  redis.call('ZADD', checksKey, checkAt, taskId .. ' ' .. client)
  return {1, '', tasks, bytes}
end
`;

export const CLAIM = new LuaScript(`${CLAIM_QUOTA_LUA}
return claimQuota(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
`);

/** What claimQuota answers: granted (1 or 0), which quota refused, tasks and bytes held before. */
export type QuotaReply = [granted: number, refused: string, tasks: number, bytes: number];

// Releasing twice is harmless: only the first finds the field.
export const RELEASE = new LuaScript(`
local held = redis.call('HGET', KEYS[1], ARGV[1])
if not held then return 0 end
local sep = string.find(held, ':', 1, true)
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1] .. ' ' .. ARGV[2])
local tasks = redis.call('HINCRBY', KEYS[1], '#tasks', -tonumber(string.sub(held, 1, sep - 1)))
local bytes = redis.call('HINCRBY', KEYS[1], '#bytes', -tonumber(string.sub(held, sep + 1)))
if tasks <= 0 and bytes <= 0 then redis.call('DEL', KEYS[1]) end
return 1
`);

// A claim whose task has ended: its tasks are given back, and its bytes become what the ended
// task keeps (result, record, ARGV[4] per task of it) until ARGV[5], when the sweep drops them.
// A claim settled already ("0:<bytes>") is left as it is.
export const SETTLE = new LuaScript(`
local held = redis.call('HGET', KEYS[1], ARGV[1])
if not held then return 0 end
local sep = string.find(held, ':', 1, true)
local tasks = tonumber(string.sub(held, 1, sep - 1))
if tasks == 0 then return 0 end
local kept = tonumber(ARGV[3]) + tasks * tonumber(ARGV[4])
redis.call('HSET', KEYS[1], ARGV[1], '0:' .. kept)
redis.call('HINCRBY', KEYS[1], '#tasks', -tasks)
redis.call('HINCRBY', KEYS[1], '#bytes', kept - tonumber(string.sub(held, sep + 1)))
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1] .. ' ' .. ARGV[2])
return 1
`);

// The due claims, at most ARGV[2]: those settled (their results have expired) are dropped
// here, in bulk; the others are returned for the sweep to look at. Every client's hash is
// under ARGV[3], in the one hash slot of the prefix.
export const DROP_EXPIRED = new LuaScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local dropped, open = 0, {}
for _, member in ipairs(due) do
  local space = string.find(member, ' ', 1, true)
  local id, client = string.sub(member, 1, space - 1), string.sub(member, space + 1)
  local key = ARGV[3] .. client
  local held = redis.call('HGET', key, id)
  if not held then
    redis.call('ZREM', KEYS[1], member)
  elseif string.sub(held, 1, 2) == '0:' then
    redis.call('HDEL', key, id)
    redis.call('ZREM', KEYS[1], member)
    local bytes = redis.call('HINCRBY', key, '#bytes', -tonumber(string.sub(held, 3)))
    if bytes <= 0 and tonumber(redis.call('HGET', key, '#tasks') or '0') <= 0 then
      redis.call('DEL', key)
    end
    dropped = dropped + 1
  else
    table.insert(open, member)
  end
end
return {dropped, open}
`);
