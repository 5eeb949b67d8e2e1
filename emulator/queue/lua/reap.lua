-- Returns tasks whose lease expired (their dispatcher died or hung) to the due set at once. A lost lease is
-- counted; past `max_lost` losses the task ends Failed, so a task that kills its dispatcher cannot loop.
-- Returns how many leases had expired.
local inflight_key, due_index = KEYS[1], KEYS[2]
local task_prefix, events_prefix, due_prefix = ARGV[1], ARGV[2], ARGV[3]
local retention, wake_channel, max_lost, batch = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])

local now, vnow = clock(ARGV[8])
local members = redis.call('ZRANGEBYSCORE', inflight_key, '-inf', now, 'LIMIT', 0, batch)
for _, member in ipairs(members) do
  redis.call('ZREM', inflight_key, member)
  local task_key, events_key = task_prefix .. member, events_prefix .. member
  local f = redis.call('HMGET', task_key, 'fn', 'stop')
  if f[1] then
    if f[2] == '1' then
      close_task(task_key, events_key, 'Stopped', now, 'stopped by request', retention)
    elseif redis.call('HINCRBY', task_key, 'lost', 1) > max_lost then
      local message = 'the dispatcher running it stopped answering ' .. max_lost .. ' times'
      redis.call('HSET', task_key, 'err', message)
      close_task(task_key, events_key, 'Failed', now, message, retention)
    else
      redis.call('HSET', task_key, 'status', 'Enqueued')
      add_event(events_key, 'Enqueued', now, 'lease expired: the dispatcher running it stopped answering')
      schedule(due_prefix .. f[1], due_index, f[1], member, vnow, wake_channel)
    end
  end
end
return #members
