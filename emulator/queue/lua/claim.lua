-- Claims up to `max` due tasks of one function among the candidates the caller names: each leaves the due set
-- for the in-flight set with a lease deadline, its attempt counter (the fencing token) goes up, and it becomes
-- Dequeued. Tasks older than their max age end Expired instead. The first claimed tasks are marked Running at
-- once on the warm instances the dispatcher holds for them.
-- KEYS: due set, due index, in-flight set, the function's retrying set, deliveries, then a {task, events} pair
-- per candidate. ARGV: function, max, lease (ms), retention (s), clock offset, how many upcoming members to
-- return, n, n instance ids, then the candidates' members.
-- Returns {now, next due of the function or -1, claimed, expired, upcoming members, more (see claim_due)}.
local due_key, due_index, inflight_key, retry_key, deliveries_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local fn, max, lease_ms, retention = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local upcoming, n = tonumber(ARGV[6]), tonumber(ARGV[7])
local instance_ids = {unpack(ARGV, 8, 7 + n)}

local now, vnow = clock(ARGV[5])
local claimed, expired, next_members, more = claim_due(due_key, due_index, inflight_key, deliveries_key, fn,
  candidates(6, 8 + n, retry_key), max, lease_ms, retention, now, vnow, instance_ids, upcoming)
local next_due = redis.call('ZSCORE', due_index, fn)
return {now, next_due or -1, claimed, expired, next_members, more}
