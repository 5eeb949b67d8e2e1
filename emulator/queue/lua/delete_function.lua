-- Ends one shard's tasks of a deleted function, as FC does: queued ones (due, delayed, waiting to retry) end
-- Invalid, FC's state for a task whose function is gone; claimed or running ones are stopped as
-- StopAsyncTask stops them (flagged, their dispatcher told), since they may already be running.
--
-- KEYS[1]: the function's due set
-- KEYS[2]: the shard's due index
-- KEYS[3]: the shard's in-flight set
-- KEYS[4]: the function's retrying set
-- KEYS[5]: the shard's deliveries
-- KEYS[6..]: a {task, events} pair per candidate, in the order of their members
-- ARGV[1]: the function
-- ARGV[2]: how long a finished task's record is kept (s)
-- ARGV[3]: the stop channel
-- ARGV[4]: the detail (why the tasks end: their error and their last event's detail)
-- ARGV[5]: the clock offset (ms)
-- ARGV[6]: how many of the candidates are queued ones
-- ARGV[7..]: the candidates' members, first the queued ones, then the in-flight ones (both read before the call,
--   each checked here)
--
-- Returns {ended, stopping}.
local due_key, due_index, inflight_key, retry_key, deliveries_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local fn, retention, stop_channel, detail = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local queued = tonumber(ARGV[6])

local now = clock(ARGV[5])
local ended, stopping = 0, 0
for i, t in ipairs(candidates(6, 7, retry_key)) do
  -- A queued one that a dispatcher claimed since it was read is in flight now: stopped as those are.
  if i <= queued and redis.call('ZREM', due_key, t.member) == 1 then
    if redis.call('EXISTS', t.task) == 1 then
      redis.call('HSET', t.task, 'err', detail)
      close_task(t, deliveries_key, 'Invalid', now, detail, retention)
      ended = ended + 1
    end
  elseif redis.call('ZSCORE', inflight_key, t.member) then
    redis.call('HSET', t.task, 'stop', '1')
    if redis.call('HGET', t.task, 'status') ~= 'Stopping' then
      redis.call('HSET', t.task, 'status', 'Stopping')
      add_event(t.events, 'Stopping', now, detail)
    end
    redis.call('PUBLISH', stop_channel, t.member)
    stopping = stopping + 1
  end
end
if redis.call('ZCARD', due_key) == 0 then
  redis.call('DEL', retry_key)
end
reindex_due(due_key, due_index, fn)
return {ended, stopping}
