-- Claims up to `max` due tasks of one function among the candidates the caller names: each leaves the due set
-- for the in-flight set with a lease deadline, its attempt counter (the fencing token) goes up, and it becomes
-- Dequeued. Tasks older than their max age end Expired instead. The first claimed tasks are marked Running at
-- once on the warm instances the dispatcher holds for them.
--
-- KEYS[1]: the function's due set
-- KEYS[2]: the shard's due index
-- KEYS[3]: the shard's in-flight set
-- KEYS[4]: the function's retrying set
-- KEYS[5]: the shard's deliveries
-- KEYS[6..]: a {task, events} pair per candidate, in the order of their members
-- ARGV[1]: the function
-- ARGV[2]: max, the most tasks to claim
-- ARGV[3]: the lease (ms)
-- ARGV[4]: how long a finished task's record is kept (s)
-- ARGV[5]: the clock offset (ms)
-- ARGV[6]: how many upcoming members to return
-- ARGV[7]: n, how many instance ids follow
-- ARGV[8..7+n]: the instances to mark the first claimed tasks Running on, one each
-- ARGV[8+n..]: the candidates' members
--
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
