-- Gives a claimed task back (its dispatcher is shutting down or cannot run it now) without counting a lost
-- lease; one that was asked to stop ends Stopped instead.
--
-- KEYS[1]: the task's record
-- KEYS[2]: the task's events
-- KEYS[3]: the shard's in-flight set
-- KEYS[4]: the function's due set
-- KEYS[5]: the shard's due index
-- KEYS[6]: the function's retrying set
-- KEYS[7]: the shard's deliveries
-- ARGV[1]: the task's member
-- ARGV[2]: the attempt (the fencing token it was claimed with)
-- ARGV[3]: the function
-- ARGV[4]: the wake channel
-- ARGV[5]: how long a finished task's record is kept (s)
-- ARGV[6]: the detail: why, for its Enqueued event
-- ARGV[7]: the delay before it is due again (ms; 0 when absent)
-- ARGV[8]: the clock offset (ms)
--
-- Returns 1, or 0 when the caller no longer holds it.
local task_key, events_key, inflight_key, due_key, due_index = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local retry_key, deliveries_key = KEYS[6], KEYS[7]
local member, attempt, fn, wake_channel, retention = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local detail, delay_ms = ARGV[6], tonumber(ARGV[7] or '0')
local now, vnow = clock(ARGV[8])

if redis.call('HGET', task_key, 'attempt') ~= attempt or not redis.call('ZSCORE', inflight_key, member) then
  return 0
end
redis.call('ZREM', inflight_key, member)
if redis.call('HGET', task_key, 'stop') == '1' then
  close_task(task_keys(member, task_key, events_key, retry_key), deliveries_key, 'Stopped', now,
    'stopped by request', retention)
  return 1
end
redis.call('HSET', task_key, 'status', 'Enqueued')
add_event(events_key, 'Enqueued', now, detail)
schedule(due_key, due_index, fn, member, vnow + delay_ms, wake_channel)
return 1
