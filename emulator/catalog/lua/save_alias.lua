-- Creates or updates an alias, if every version it names exists (in the same script as a version's delete,
-- which refuses a version an alias names, so that an alias never names a deleted version).
--
-- KEYS[1]: the aliases hash (`<function>/<alias>` -> record)
-- KEYS[2]: the versions hash
-- ARGV[1]: the function's name
-- ARGV[2]: the alias's name
-- ARGV[3]: the record (JSON)
-- ARGV[4]: '1' to create (the alias must not exist), '0' to update (it must)
-- ARGV[5..]: the versions the alias names
--
-- Returns {1} when saved, {-1} when the alias exists (create), {-2} when it does not (update), {-3, version}
-- when a version it names does not exist.
local field = ARGV[1] .. '/' .. ARGV[2]
local exists = redis.call('HEXISTS', KEYS[1], field) == 1
if ARGV[4] == '1' and exists then return {-1} end
if ARGV[4] == '0' and not exists then return {-2} end
for i = 5, #ARGV do
  if redis.call('HEXISTS', KEYS[2], ARGV[1] .. '/' .. ARGV[i]) == 0 then return {-3, ARGV[i]} end
end
redis.call('HSET', KEYS[1], field, ARGV[3])
return {1}
