/**
 * One sliding-window check over several buckets, atomic in Redis. A bucket is a sorted set of
 * the times (ms) of the requests it counted in the last `window` ms; a request passes only if
 * every bucket has room, and is then counted in the buckets it takes from (the others are only
 * looked at). So no more than `limit` requests are counted in any `window`, wherever a window
 * would start.
 *
 * KEYS[i]  bucket i (all under one prefix: one hash slot on a cluster)
 * ARGV[1]  now in ms, or '' for Redis's own clock (one clock for every API instance)
 * ARGV[2]  a member unique to this request
 * ARGV[3i], ARGV[3i+1], ARGV[3i+2]  bucket i's limit, window in ms, and '1' to take, '0' to look
 *
 * Returns {allowed (1|0), now, then per bucket: count, ms until its quota next grows}.
 */
export const SLIDING_WINDOW_SCRIPT = `
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local counts = {}
local allowed = 1
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - tonumber(ARGV[3 * i + 1]))
  counts[i] = redis.call('ZCARD', key)
  if counts[i] >= tonumber(ARGV[3 * i]) then allowed = 0 end
end
local out = { allowed, now }
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[3 * i])
  local window = tonumber(ARGV[3 * i + 1])
  if allowed == 1 and ARGV[3 * i + 2] == '1' then
    redis.call('ZADD', key, now, ARGV[2])
    redis.call('PEXPIRE', key, window)
    counts[i] = counts[i] + 1
  end
  local wait = 0
  if counts[i] > 0 then
    local k = math.max(0, counts[i] - limit)
    local entry = redis.call('ZRANGE', key, k, k, 'WITHSCORES')
    if entry[2] then wait = tonumber(entry[2]) + window - now end
  end
  out[#out + 1] = counts[i]
  out[#out + 1] = wait
end
return out
`;
