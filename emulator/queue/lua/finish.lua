-- Records how an attempt ended, if the caller still holds the task (fencing by attempt). A function error
-- is retried with the given backoff while retries are left; a stop request wins over any outcome. With
-- `claim_next` > 0 it then claims that many due tasks of the same function for the freed slot, among the
-- candidates the caller names, saving the caller a round trip (as BullMQ's moveToFinished fetches the next
-- job); with `run_on` (an instance id) they are also marked Running on that instance, which the caller kept.
--
-- KEYS[1]: the task's record
-- KEYS[2]: the task's events
-- KEYS[3]: the shard's in-flight set
-- KEYS[4]: the function's due set
-- KEYS[5]: the shard's due index
-- KEYS[6]: the function's retrying set
-- KEYS[7]: the shard's deliveries
-- KEYS[8..]: a {task, events} pair per candidate, in the order of their members
-- ARGV[1]: the task's member
-- ARGV[2]: the attempt (the fencing token it was claimed with)
-- ARGV[3]: the outcome: 'ok', 'invalid' (ends Invalid, not retried) or 'error' (a function error)
-- ARGV[4]: the return payload
-- ARGV[5]: the error message
-- ARGV[6]: the backoff before a retry (ms)
-- ARGV[7]: how long a finished task's record is kept (s)
-- ARGV[8]: the function
-- ARGV[9]: the wake channel
-- ARGV[10]: claim_next, how many tasks to claim for the freed slot (0 for none)
-- ARGV[11]: the lease of those (ms)
-- ARGV[12]: run_on, the instance to mark the first of them Running on ('' for none)
-- ARGV[13]: the clock offset (ms)
-- ARGV[14]: how many upcoming members to return
-- ARGV[15..]: the candidates' members
--
-- Returns {1, new status, claimed, expired, now, upcoming members, more} or {0} for a stale caller.
local task_key, events_key, inflight_key, due_key, due_index = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local retry_key, deliveries_key = KEYS[6], KEYS[7]
local member, attempt, outcome, return_payload, error_message = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local backoff_ms, retention, fn, wake_channel = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8], ARGV[9]
local claim_next, lease_ms, run_on, upcoming = tonumber(ARGV[10]), tonumber(ARGV[11]), ARGV[12], tonumber(ARGV[14])
local now, vnow = clock(ARGV[13])
local t = task_keys(member, task_key, events_key, retry_key)

if redis.call('HGET', task_key, 'attempt') ~= attempt or not redis.call('ZSCORE', inflight_key, member) then
  return {0}
end
redis.call('ZREM', inflight_key, member)
local status
if redis.call('HGET', task_key, 'stop') == '1' then
  status = 'Stopped'
  close_task(t, deliveries_key, status, now, 'stopped by request', retention)
elseif outcome == 'ok' then
  status = 'Succeeded'
  redis.call('HSET', task_key, 'ret', return_payload, 'err', '')
  close_task(t, deliveries_key, status, now, '', retention)
else
  redis.call('HSET', task_key, 'err', error_message, 'ret', return_payload)
  local f = redis.call('HMGET', task_key, 'retried', 'maxRetry')
  if outcome == 'invalid' then
    status = 'Invalid'
    close_task(t, deliveries_key, status, now, error_message, retention)
  elseif tonumber(f[1]) < tonumber(f[2]) then
    status = 'Retrying'
    redis.call('HINCRBY', task_key, 'retried', 1)
    redis.call('HSET', task_key, 'status', status)
    add_event(events_key, status, now, error_message)
    schedule(due_key, due_index, fn, member, vnow + backoff_ms, wake_channel)
    redis.call('ZADD', retry_key, vnow + backoff_ms, member)
  else
    status = 'Failed'
    close_task(t, deliveries_key, status, now, error_message, retention)
  end
end
local claimed, expired, next_members, more = {}, {}, {}, 0
if claim_next > 0 then
  claimed, expired, next_members, more = claim_due(due_key, due_index, inflight_key, deliveries_key, fn,
    candidates(8, 15, retry_key), claim_next, lease_ms, retention, now, vnow, run_on ~= '' and {run_on} or {},
    upcoming)
end
return {1, status, claimed, expired, now, next_members, more}
