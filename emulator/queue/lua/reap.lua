-- Returns tasks whose lease expired (their dispatcher died or hung) to the due set at once. A lost lease is
-- counted; past `max_lost` losses the task ends Failed, so a task that kills its dispatcher cannot loop.
--
-- KEYS[1]: the shard's in-flight set
-- KEYS[2]: the shard's due index
-- KEYS[3]: the shard's deliveries
-- KEYS[4..]: per candidate, in the order of their members: {task, events, its function's due set, its function's
--   retrying set}
-- ARGV[1]: how long a finished task's record is kept (s)
-- ARGV[2]: the wake channel
-- ARGV[3]: max_lost, the most lost leases before a task ends Failed
-- ARGV[4]: the clock offset (ms)
-- ARGV[5..]: the candidates' members (read from the in-flight set before the call): each is checked to be in
--   flight still with its lease expired
--
-- Returns how many leases had expired.
local inflight_key, due_index, deliveries_key = KEYS[1], KEYS[2], KEYS[3]
local retention, wake_channel, max_lost = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])

local now, vnow = clock(ARGV[4])
local reaped = 0
for i = 5, #ARGV do
  local member, k = ARGV[i], 4 + (i - 5) * 4
  local task_key, events_key, due_key = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local t = task_keys(member, task_key, events_key, KEYS[k + 3])
  local deadline = redis.call('ZSCORE', inflight_key, member)
  if deadline and tonumber(deadline) <= now then
    reaped = reaped + 1
    redis.call('ZREM', inflight_key, member)
    local f = redis.call('HMGET', task_key, 'fn', 'stop')
    if f[1] then
      if f[2] == '1' then
        close_task(t, deliveries_key, 'Stopped', now, 'stopped by request', retention)
      elseif redis.call('HINCRBY', task_key, 'lost', 1) > max_lost then
        local message = 'the dispatcher running it stopped answering ' .. max_lost .. ' times'
        redis.call('HSET', task_key, 'err', message)
        close_task(t, deliveries_key, 'Failed', now, message, retention)
      else
        redis.call('HSET', task_key, 'status', 'Enqueued')
        add_event(events_key, 'Enqueued', now, 'lease expired: the dispatcher running it stopped answering')
        schedule(due_key, due_index, f[1], member, vnow, wake_channel)
      end
    end
  end
end
return reaped
