-- Deletes a published version, unless an alias names it (as its version or its additional version); its code
-- zip goes unless a function or another version names it.
--
-- KEYS[1]: the versions hash
-- KEYS[2]: the aliases hash (`<function>/<alias>` -> record)
-- KEYS[3]: the functions hash
-- KEYS[4]: the version's code key (as the caller knows it)
-- ARGV[1]: the function's name
-- ARGV[2]: the version id
-- ARGV[3]: the code key prefix
--
-- Returns {1} when deleted, {0} when there is no such version, {-1, alias} when an alias names it.
local field = ARGV[1] .. '/' .. ARGV[2]
local record = redis.call('HGET', KEYS[1], field)
if not record then return {0} end
local prefix = ARGV[1] .. '/'
local aliases = redis.call('HGETALL', KEYS[2])
for i = 1, #aliases, 2 do
  if string.sub(aliases[i], 1, #prefix) == prefix then
    local ok, alias = pcall(cjson.decode, aliases[i + 1])
    if ok and type(alias) == 'table' then
      local weights = alias.additionalVersionWeight
      if alias.versionId == ARGV[2] or (type(weights) == 'table' and weights[ARGV[2]] ~= nil) then
        return {-1, string.sub(aliases[i], #prefix + 1)}
      end
    end
  end
end
redis.call('HDEL', KEYS[1], field)
drop_if_unreferenced(KEYS[3], KEYS[1], ARGV[3], checksum_of(record), KEYS[4])
return {1}
