-- Claims due destination deliveries: each stays in the set with its score moved to now + lease (hidden
-- while one dispatcher delivers it; visible again if that dispatcher dies), its attempt counted.
-- Returns {now, next due delivery or -1, {member, attempt}...}.
local deliveries_key, task_prefix = KEYS[1], ARGV[1]
local max, lease_ms = tonumber(ARGV[2]), tonumber(ARGV[3])

local now = now_ms()
local claimed = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', deliveries_key, '-inf', now, 'LIMIT', 0, max)) do
  local task_key = task_prefix .. member
  if redis.call('EXISTS', task_key) == 1 then
    redis.call('ZADD', deliveries_key, now + lease_ms, member)
    table.insert(claimed, {member, redis.call('HINCRBY', task_key, 'destAttempt', 1)})
  else
    redis.call('ZREM', deliveries_key, member)
  end
end
local first = redis.call('ZRANGE', deliveries_key, 0, 0, 'WITHSCORES')
return {now, first[2] or -1, claimed}
