-- Moves `fcemu clock advance`'s offset forward unless the advanced clock would then pass its limit: checked and
-- added in one step, so two advances that each fit cannot together pass it. The offset key is the only key
-- (a global one, which a Cluster routes like any single key).
--
-- KEYS[1]: the clock offset (ms)
-- ARGV[1]: the advance (ms, > 0)
-- ARGV[2]: the first advanced time (ms since the epoch) the clock may not reach
--
-- Returns {1, new offset} once moved, or {0, offset, most it may still move (ms)} when refused.
local offset_key = KEYS[1]
local advance, limit = tonumber(ARGV[1]), tonumber(ARGV[2])

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local offset = tonumber(redis.call('GET', offset_key) or '0')
local room = limit - 1 - now - offset
if advance > room then
  return {0, offset, math.max(room, 0)}
end
return {1, redis.call('INCRBY', offset_key, advance)}
