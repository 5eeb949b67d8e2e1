-- Ends one shard's tasks of a deleted function, as FC does: queued ones (due, delayed, waiting to retry) end
-- Invalid, FC's state for a task whose function is gone; claimed or running ones are stopped as
-- StopAsyncTask stops them (flagged, their dispatcher told), since they may already be running.
-- Returns {ended, stopping}.
local due_key, due_index, inflight_key = KEYS[1], KEYS[2], KEYS[3]
local fn, task_prefix, events_prefix = ARGV[1], ARGV[2], ARGV[3]
local retention, stop_channel, detail = tonumber(ARGV[4]), ARGV[5], ARGV[6]

local now = clock(ARGV[7])
local ended = 0
for _, member in ipairs(redis.call('ZRANGE', due_key, 0, -1)) do
  local task_key = task_prefix .. member
  if redis.call('EXISTS', task_key) == 1 then
    redis.call('HSET', task_key, 'err', detail)
    close_task(task_key, events_prefix .. member, 'Invalid', now, detail, retention)
    ended = ended + 1
  end
end
redis.call('DEL', due_key)
redis.call('DEL', string.gsub(task_prefix, ':task:$', ':retrying:') .. fn)
redis.call('ZREM', due_index, fn)

local stopping = 0
local prefix = fn .. '/'
for _, member in ipairs(redis.call('ZRANGE', inflight_key, 0, -1)) do
  if string.sub(member, 1, #prefix) == prefix then
    local task_key, events_key = task_prefix .. member, events_prefix .. member
    redis.call('HSET', task_key, 'stop', '1')
    if redis.call('HGET', task_key, 'status') ~= 'Stopping' then
      redis.call('HSET', task_key, 'status', 'Stopping')
      add_event(events_key, 'Stopping', now, detail)
    end
    redis.call('PUBLISH', stop_channel, member)
    stopping = stopping + 1
  end
end
return {ended, stopping}
