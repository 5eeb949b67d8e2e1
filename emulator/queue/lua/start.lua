-- Marks a claimed task Running on an instance, if the caller still holds it (same attempt, still in flight)
-- and nobody asked to stop it; its lease is renewed.
--
-- KEYS[1]: the task's record
-- KEYS[2]: the task's events
-- KEYS[3]: the shard's in-flight set
-- ARGV[1]: the task's member
-- ARGV[2]: the attempt (the fencing token it was claimed with)
-- ARGV[3]: the instance id
-- ARGV[4]: the lease (ms)
-- ARGV[5]: the clock offset (ms)
--
-- Returns 1 (run it), 0 (stale claim) or -1 (stop requested).
local task_key, events_key, inflight_key = KEYS[1], KEYS[2], KEYS[3]
local member, attempt, instance_id, lease_ms = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local now = clock(ARGV[5])

if redis.call('HGET', task_key, 'attempt') ~= attempt or not redis.call('ZSCORE', inflight_key, member) then
  return 0
end
if redis.call('HGET', task_key, 'stop') == '1' then
  return -1
end
mark_running(task_key, events_key, instance_id, now)
redis.call('ZADD', inflight_key, 'XX', 'GT', now + lease_ms, member)
return 1
