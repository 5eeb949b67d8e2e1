-- Claims up to `max` due tasks of one function: each leaves the due set for the in-flight set with a lease
-- deadline, its attempt counter (the fencing token) goes up, and it becomes Dequeued. Tasks older than their
-- max age end Expired instead. Returns {now, next due of the function or -1, claimed, expired}.
local due_key, due_index, inflight_key = KEYS[1], KEYS[2], KEYS[3]
local fn, max, lease_ms = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local task_prefix, events_prefix, retention = ARGV[4], ARGV[5], tonumber(ARGV[6])

local now = now_ms()
local members = redis.call('ZRANGEBYSCORE', due_key, '-inf', now, 'LIMIT', 0, max)
local claimed, expired = {}, {}
for _, member in ipairs(members) do
  redis.call('ZREM', due_key, member)
  local task_key, events_key = task_prefix .. member, events_prefix .. member
  local f = redis.call('HMGET', task_key, 'created', 'maxAge', 'payload', 'rid', 'retried', 'id')
  if f[1] then
    if now - tonumber(f[1]) > tonumber(f[2]) then
      close_task(task_key, events_key, 'Expired', now, 'older than maxAsyncEventAgeInSeconds', retention)
      table.insert(expired, member)
    else
      local attempt = redis.call('HINCRBY', task_key, 'attempt', 1)
      redis.call('HSET', task_key, 'status', 'Dequeued')
      add_event(events_key, 'Dequeued', now, '')
      redis.call('ZADD', inflight_key, now + lease_ms, member)
      table.insert(claimed, {member, attempt, f[5], f[4], f[3], f[6]})
    end
  end
end
reindex_due(due_key, due_index, fn)
local next_due = redis.call('ZSCORE', due_index, fn)
return {now, next_due or -1, claimed, expired}
