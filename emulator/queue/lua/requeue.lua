-- Gives a claimed task back (its dispatcher is shutting down or cannot run it now) without counting a lost
-- lease; one that was asked to stop ends Stopped instead. `detail` says why, for its Enqueued event; it is due
-- again after `delay_ms`.
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
