-- Accepts an async invocation: the task record, its first event, its place in the due set. Refuses a
-- duplicate task id.
--
-- KEYS[1]: the task's record
-- KEYS[2]: the task's events
-- KEYS[3]: the function's due set
-- KEYS[4]: the shard's due index
-- KEYS[5]: the function's listing (its task-mode tasks' ids by start time)
-- ARGV[1]: the task's member (`<function>/<task id>`)
-- ARGV[2]: the function
-- ARGV[3]: the task id
-- ARGV[4]: the request id
-- ARGV[5]: the payload
-- ARGV[6]: the delay before it is due (ms)
-- ARGV[7]: the most retries
-- ARGV[8]: the max event age (ms)
-- ARGV[9]: '1' for a task-mode task (listed), '0' otherwise
-- ARGV[10]: the qualifier
-- ARGV[11]: the wake channel
-- ARGV[12]: the onSuccess destination ('' for none)
-- ARGV[13]: the onFailure destination ('' for none)
-- ARGV[14]: the kind ('' for an event invocation; 'http', 'timer', 'mns')
-- ARGV[15]: the version: the function it was accepted for (a deployed function's functionId), so that it never
--   runs on another function that took the name
-- ARGV[16]: the listing's horizon (ms): its entries older than that go, by when their records have expired
-- ARGV[17]: the clock offset (ms)
-- ARGV[18]: the note, the first event's detail (why the task exists, when it is not an ordinary invocation: a
--   re-run, a manual firing); optional
--
-- Returns {1, now, due (virtual)}, or {0} for a duplicate.
local task_key, events_key, due_key, due_index, listing_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local member, fn, task_id, request_id, payload = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local delay_ms, max_retry, max_age_ms, task_mode = tonumber(ARGV[6]), ARGV[7], ARGV[8], ARGV[9]
local qualifier, wake_channel, on_success, on_failure = ARGV[10], ARGV[11], ARGV[12], ARGV[13]
local kind, version, listing_horizon_ms = ARGV[14], ARGV[15], tonumber(ARGV[16])
local now, vnow = clock(ARGV[17])
local note = ARGV[18] or ''

if redis.call('EXISTS', task_key) == 1 then
  return {0}
end
local due = vnow + delay_ms
redis.call('HSET', task_key,
  'fn', fn, 'id', task_id, 'rid', request_id, 'payload', payload, 'status', 'Enqueued',
  'created', now, 'due', due, 'attempt', 0, 'retried', 0, 'lost', 0,
  'maxRetry', max_retry, 'maxAge', max_age_ms, 'taskMode', task_mode, 'qualifier', qualifier,
  'onSuccess', on_success, 'onFailure', on_failure, 'kind', kind, 'ver', version)
if vnow ~= now then
  redis.call('HSET', task_key, 'vcreated', vnow)  -- its max event age counts on the virtual clock
end
add_event(events_key, 'Enqueued', now, note)
if task_mode == '1' then
  redis.call('ZADD', listing_key, now, task_id)
  redis.call('ZREMRANGEBYSCORE', listing_key, '-inf', '(' .. (now - listing_horizon_ms))
end
schedule(due_key, due_index, fn, member, due, wake_channel)
return {1, now, due}
