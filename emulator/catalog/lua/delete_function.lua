-- Removes a deployed function's record, and its code zip unless another record names it.
--
-- KEYS[1]: the functions hash (name -> record)
-- KEYS[2]: the record's code key (as the caller knows it)
-- KEYS[3]: the published versions' hash (their code stays)
-- ARGV[1]: the function's name
-- ARGV[2]: the code key prefix
--
-- Returns 1 when there was a record, else 0.
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
drop_if_unreferenced(KEYS[1], KEYS[3], ARGV[2], checksum_of(old), KEYS[2])
return 1
