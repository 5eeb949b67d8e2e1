-- KEYS: layer hash, code hash. ARGV: highest version the folders hold, record, zip. Returns the new version.
local last = tonumber(redis.call('HGET', KEYS[1], 'next') or '0')
local floor = tonumber(ARGV[1])
if last < floor then last = floor end
local version = last + 1
redis.call('HSET', KEYS[1], 'next', version, tostring(version), ARGV[2])
redis.call('HSET', KEYS[2], tostring(version), ARGV[3])
return version
