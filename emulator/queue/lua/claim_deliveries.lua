-- Claims due destination deliveries: each stays in the set with its score moved to now + lease (hidden
-- while one dispatcher delivers it; visible again if that dispatcher dies), its attempt counted.
--
-- KEYS[1]: the shard's deliveries
-- KEYS[2..]: each candidate's task record, in the order of their members
-- ARGV[1]: max, the most deliveries to claim
-- ARGV[2]: the lease (ms)
-- ARGV[3..]: the candidates' members (read from the deliveries before the call): each is checked to be due still
--
-- Returns {now, next due delivery or -1, {member, attempt}...}.
local deliveries_key = KEYS[1]
local max, lease_ms = tonumber(ARGV[1]), tonumber(ARGV[2])

local now = now_ms()
local claimed = {}
for i = 3, #ARGV do
  local member, task_key = ARGV[i], KEYS[i - 1]
  local score = redis.call('ZSCORE', deliveries_key, member)
  if score and tonumber(score) <= now and #claimed < max then
    if redis.call('EXISTS', task_key) == 1 then
      redis.call('ZADD', deliveries_key, now + lease_ms, member)
      table.insert(claimed, {member, redis.call('HINCRBY', task_key, 'destAttempt', 1)})
    else
      redis.call('ZREM', deliveries_key, member)
    end
  end
end
local first = redis.call('ZRANGE', deliveries_key, 0, 0, 'WITHSCORES')
return {now, first[2] or -1, claimed}
