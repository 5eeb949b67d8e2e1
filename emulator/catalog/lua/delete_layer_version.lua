-- Marks a published version of a layer deleted, by its tombstone (`deleted:<version>`); its zip stays while a
-- function names it.
--
-- KEYS[1]: the layer's hash (version -> record)
-- ARGV[1]: the version
--
-- Returns 1 when a live version was marked deleted, 0 when there is no such version or it was deleted already.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'deleted:' .. ARGV[1], '1') == 0 then return 0 end
return 1
