-- Stops a task: a queued one is taken out and ends Stopped; a claimed one is flagged Stopping and its
-- dispatcher told over pub/sub.
--
-- KEYS[1]: the task's record
-- KEYS[2]: the task's events
-- KEYS[3]: the function's due set
-- KEYS[4]: the shard's due index
-- KEYS[5]: the function's retrying set
-- KEYS[6]: the shard's deliveries
-- ARGV[1]: the task's member
-- ARGV[2]: the function
-- ARGV[3]: how long a finished task's record is kept (s)
-- ARGV[4]: the stop channel
-- ARGV[5]: the clock offset (ms)
--
-- Returns 'Stopped', 'Stopping', 'NotFound' or 'Completed'.
local task_key, events_key, due_key, due_index = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local retry_key, deliveries_key = KEYS[5], KEYS[6]
local member, fn, retention, stop_channel = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local now = clock(ARGV[5])

local status = redis.call('HGET', task_key, 'status')
if not status then
  return 'NotFound'
end
if status == 'Succeeded' or status == 'Failed' or status == 'Stopped' or status == 'Expired'
    or status == 'Invalid' then
  return 'Completed'
end
if redis.call('ZREM', due_key, member) == 1 then
  reindex_due(due_key, due_index, fn)
  close_task(task_keys(member, task_key, events_key, retry_key), deliveries_key, 'Stopped', now, 'stopped by request',
    retention)
  return 'Stopped'
end
redis.call('HSET', task_key, 'stop', '1')
if status ~= 'Stopping' then
  redis.call('HSET', task_key, 'status', 'Stopping')
  add_event(events_key, 'Stopping', now, 'stop requested')
end
redis.call('PUBLISH', stop_channel, member)
return 'Stopping'
