-- Stores a deployed function's record, and its code zip by checksum (kept when already stored); the code of the
-- record it replaces goes unless another record names it.
--
-- KEYS[1]: the functions hash (name -> record)
-- KEYS[2]: the new record's code key
-- KEYS[3]: the code key of the record it replaces (as the caller knows it)
-- KEYS[4]: the published versions' hash (their code stays)
-- ARGV[1]: the function's name
-- ARGV[2]: the record (JSON)
-- ARGV[3]: '1' to create only, '0' to create or replace
-- ARGV[4]: the code zip ('' when the code does not change)
-- ARGV[5]: the code key prefix
-- ARGV[6]: '1' when code is given, '0' otherwise
--
-- Returns 1, or 0 when a create-only save meets a record.
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old and ARGV[3] == '1' then return 0 end
if ARGV[6] == '1' then redis.call('SET', KEYS[2], ARGV[4], 'NX') end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if old then drop_if_unreferenced(KEYS[1], KEYS[4], ARGV[5], checksum_of(old), KEYS[3]) end
return 1
