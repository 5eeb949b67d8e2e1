-- KEYS: functions hash, the record's code key (as the caller knows it). ARGV: name, code key prefix. Returns 1 when
-- there was a record.
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
drop_if_unreferenced(KEYS[1], ARGV[2], checksum_of(old), KEYS[2])
return 1
