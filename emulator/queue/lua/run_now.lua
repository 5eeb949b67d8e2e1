-- Makes a task waiting in the due set (deferred, or waiting out a retry's backoff) due now, on the advanced
-- clock; its status stays, and an event of that status says why it moved.
--
-- KEYS[1]: the task's record
-- KEYS[2]: the task's events
-- KEYS[3]: the function's due set
-- KEYS[4]: the shard's due index
-- KEYS[5]: the function's retrying set
-- ARGV[1]: the task's member
-- ARGV[2]: the function
-- ARGV[3]: the wake channel
-- ARGV[4]: the clock offset (ms)
--
-- Returns 'Scheduled', 'NotFound', or the task's status when it is not waiting (running, finished).
local task_key, events_key, due_key, due_index, retry_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local member, fn, wake_channel = ARGV[1], ARGV[2], ARGV[3]
local now, vnow = clock(ARGV[4])

local status = redis.call('HGET', task_key, 'status')
if not status then
  return 'NotFound'
end
local due = redis.call('ZSCORE', due_key, member)
if not due then
  return status
end
if tonumber(due) > vnow then
  redis.call('HSET', task_key, 'due', vnow)
  add_event(events_key, status, now, 'run now requested (was due at ' .. due .. ')')
  schedule(due_key, due_index, fn, member, vnow, wake_channel)
  -- A retry keeps counting as one (the metrics' retrying set); XX: a deferred first attempt is not added.
  redis.call('ZADD', retry_key, 'XX', vnow, member)
end
return 'Scheduled'
