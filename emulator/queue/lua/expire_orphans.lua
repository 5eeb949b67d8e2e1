-- Ends due tasks older than their max event age, for a function that the calling dispatcher does not know
-- (no dispatcher claims those, and claiming is where age is otherwise checked). The rest stay due, untouched.
-- Expired triggers the onFailure destination as it does at a claim. Returns how many expired.
local due_key, due_index = KEYS[1], KEYS[2]
local fn, task_prefix, events_prefix = ARGV[1], ARGV[2], ARGV[3]
local retention, batch = tonumber(ARGV[4]), tonumber(ARGV[5])

local now, vnow = clock(ARGV[6])
local expired = 0
for _, member in ipairs(redis.call('ZRANGEBYSCORE', due_key, '-inf', vnow, 'LIMIT', 0, batch)) do
  local task_key = task_prefix .. member
  local f = redis.call('HMGET', task_key, 'created', 'maxAge', 'vcreated')
  if not f[1] then
    redis.call('ZREM', due_key, member)  -- its record is gone: nothing left to run or to expire
    redis.call('ZREM', retrying_key(task_key), member)
  elseif vnow - tonumber(f[3] or f[1]) > tonumber(f[2]) then
    redis.call('ZREM', due_key, member)
    close_task(task_key, events_prefix .. member, 'Expired', now, 'older than maxAsyncEventAgeInSeconds', retention)
    expired = expired + 1
  end
end
reindex_due(due_key, due_index, fn)
return expired
