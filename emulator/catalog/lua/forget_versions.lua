-- Removes every version and alias of a deleted function and its version counter (a function created again under
-- the name starts at version 1); the versions' code zips go unless a function or another version names them.
--
-- KEYS[1]: the versions hash
-- KEYS[2]: the aliases hash
-- KEYS[3]: the functions hash
-- KEYS[4..]: the code keys of the function's versions (as the caller knows them)
-- ARGV[1]: the function's name
-- ARGV[2]: the code key prefix
--
-- Returns how many versions were removed.
local prefix = ARGV[1] .. '/'
local removed, sums = 0, {}
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(field, 1, #prefix) == prefix then
    sums[checksum_of(redis.call('HGET', KEYS[1], field))] = true
    redis.call('HDEL', KEYS[1], field)
    removed = removed + 1
  end
end
redis.call('HDEL', KEYS[1], ARGV[1])
for _, field in ipairs(redis.call('HKEYS', KEYS[2])) do
  if string.sub(field, 1, #prefix) == prefix then redis.call('HDEL', KEYS[2], field) end
end
local code_prefix = ARGV[2]
for i = 4, #KEYS do
  local sum = string.sub(KEYS[i], string.len(code_prefix) + 1)
  if sums[sum] then drop_if_unreferenced(KEYS[3], KEYS[1], code_prefix, sum, KEYS[i]) end
end
return removed
