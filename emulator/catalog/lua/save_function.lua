-- KEYS: functions hash, the new record's code key, the code key of the record it replaces (as the caller knows it).
-- ARGV: name, record, '1' to create only, code bytes ('' when the code does not change), code key prefix, '1' when
-- code is given. Returns 0 when `create` meets a record.
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old and ARGV[3] == '1' then return 0 end
if ARGV[6] == '1' then redis.call('SET', KEYS[2], ARGV[4], 'NX') end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if old then drop_if_unreferenced(KEYS[1], ARGV[5], checksum_of(old), KEYS[3]) end
return 1
