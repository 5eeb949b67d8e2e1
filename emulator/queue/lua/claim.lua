-- Claims up to `max` due tasks of one function: each leaves the due set for the in-flight set with a lease
-- deadline, its attempt counter (the fencing token) goes up, and it becomes Dequeued. Tasks older than their
-- max age end Expired instead. ARGV[7]: the clock offset. ARGV[8] onwards: ids of warm instances the dispatcher holds for the first
-- claimed tasks, which are marked Running on them at once. Returns {now, next due of the function or -1,
-- claimed, expired}.
local due_key, due_index, inflight_key = KEYS[1], KEYS[2], KEYS[3]
local fn, max, lease_ms = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local task_prefix, events_prefix, retention = ARGV[4], ARGV[5], tonumber(ARGV[6])
local instance_ids = {unpack(ARGV, 8)}

local now, vnow = clock(ARGV[7])
local claimed, expired = claim_due(due_key, due_index, inflight_key, fn, max, lease_ms, task_prefix,
  events_prefix, retention, now, vnow, instance_ids)
local next_due = redis.call('ZSCORE', due_index, fn)
return {now, next_due or -1, claimed, expired}
