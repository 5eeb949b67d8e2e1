-- Records a delivery attempt, if it is still the current one: delivered, to be retried after a backoff, or
-- given up. Each outcome is an event (DestinationSucceeded, DestinationRetrying, DestinationFailed) and sets
-- the task's destinationStatus.
--
-- KEYS[1]: the shard's deliveries
-- KEYS[2]: the task's record
-- KEYS[3]: the task's events
-- ARGV[1]: the task's member
-- ARGV[2]: the attempt (the destAttempt it was claimed with)
-- ARGV[3]: the outcome: 'ok' (delivered), 'retry' (again after the backoff) or 'fail' (given up)
-- ARGV[4]: the detail (the event's, and the destination's error unless delivered)
-- ARGV[5]: the backoff before a retry (ms)
-- ARGV[6]: the clock offset (ms)
--
-- Returns 1, or 0 for a stale attempt.
local deliveries_key, task_key, events_key = KEYS[1], KEYS[2], KEYS[3]
local member, attempt, outcome, detail, backoff_ms = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local offset = ARGV[6]

if redis.call('HGET', task_key, 'destAttempt') ~= attempt or not redis.call('ZSCORE', deliveries_key, member) then
  return 0
end
local now = clock(offset)
if outcome == 'ok' then
  redis.call('ZREM', deliveries_key, member)
  redis.call('HSET', task_key, 'dest', 'Succeeded', 'destError', '')
  add_event(events_key, 'DestinationSucceeded', now, detail)
elseif outcome == 'retry' then
  redis.call('ZADD', deliveries_key, now + backoff_ms, member)
  redis.call('HSET', task_key, 'dest', 'Retrying', 'destError', detail)
  add_event(events_key, 'DestinationRetrying', now, detail)
else
  redis.call('ZREM', deliveries_key, member)
  redis.call('HSET', task_key, 'dest', 'Failed', 'destError', detail)
  add_event(events_key, 'DestinationFailed', now, detail)
end
return 1
