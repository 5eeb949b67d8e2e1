-- Records the version a task invoked with a version or an alias runs (an alias's is drawn as the task runs), if
-- the caller still holds the task.
--
-- KEYS[1]: the task's record
-- ARGV[1]: the attempt (the fencing token it was claimed with)
-- ARGV[2]: the version id
--
-- Returns 1 when recorded, 0 when the caller no longer holds the task.
if redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'versionId', ARGV[2])
return 1
