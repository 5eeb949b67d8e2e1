-- Records how an attempt ended, if the caller still holds the task (fencing by attempt). A function error
-- is retried with the given backoff while retries are left; a stop request wins over any outcome.
-- Returns {1, new status} or {0} for a stale caller.
local task_key, events_key, inflight_key, due_key, due_index = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local member, attempt, outcome, return_payload, error_message = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local backoff_ms, retention, fn, wake_channel = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8], ARGV[9]

if redis.call('HGET', task_key, 'attempt') ~= attempt or not redis.call('ZSCORE', inflight_key, member) then
  return {0}
end
redis.call('ZREM', inflight_key, member)
local now = now_ms()
if redis.call('HGET', task_key, 'stop') == '1' then
  close_task(task_key, events_key, 'Stopped', now, 'stopped by request', retention)
  return {1, 'Stopped'}
end
if outcome == 'ok' then
  redis.call('HSET', task_key, 'ret', return_payload, 'err', '')
  close_task(task_key, events_key, 'Succeeded', now, '', retention)
  return {1, 'Succeeded'}
end
redis.call('HSET', task_key, 'err', error_message, 'ret', return_payload)
if outcome == 'invalid' then
  close_task(task_key, events_key, 'Invalid', now, error_message, retention)
  return {1, 'Invalid'}
end
local f = redis.call('HMGET', task_key, 'retried', 'maxRetry')
if tonumber(f[1]) < tonumber(f[2]) then
  redis.call('HINCRBY', task_key, 'retried', 1)
  redis.call('HSET', task_key, 'status', 'Retrying')
  add_event(events_key, 'Retrying', now, error_message)
  schedule(due_key, due_index, fn, member, now + backoff_ms, wake_channel)
  return {1, 'Retrying'}
end
close_task(task_key, events_key, 'Failed', now, error_message, retention)
return {1, 'Failed'}
