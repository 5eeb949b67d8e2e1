-- Publishes a new version of a layer: numbered above both the last version handed out and the highest one the
-- layer folders hold (numbers are never reused), with its record and its zip.
--
-- KEYS[1]: the layer's hash (version -> record; `next` -> the last version handed out)
-- KEYS[2]: the layer's code hash (version -> zip)
-- ARGV[1]: the highest version the layer folders hold
-- ARGV[2]: the record (JSON)
-- ARGV[3]: the zip
--
-- Returns the new version.
local last = tonumber(redis.call('HGET', KEYS[1], 'next') or '0')
local floor = tonumber(ARGV[1])
if last < floor then last = floor end
local version = last + 1
redis.call('HSET', KEYS[1], 'next', version, tostring(version), ARGV[2])
redis.call('HSET', KEYS[2], tostring(version), ARGV[3])
return version
