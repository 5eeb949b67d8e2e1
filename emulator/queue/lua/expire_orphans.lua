-- Ends due tasks older than their max event age, for a function that the calling dispatcher does not know
-- (no dispatcher claims those, and claiming is where age is otherwise checked). The rest stay due, untouched.
-- Expired triggers the onFailure destination as it does at a claim.
--
-- KEYS[1]: the function's due set
-- KEYS[2]: the shard's due index
-- KEYS[3]: the function's retrying set
-- KEYS[4]: the shard's deliveries
-- KEYS[5..]: a {task, events} pair per candidate, in the order of their members
-- ARGV[1]: the function
-- ARGV[2]: how long a finished task's record is kept (s)
-- ARGV[3]: the clock offset (ms)
-- ARGV[4..]: the candidates' members (read from the due set before the call): each is checked to be due still
--
-- Returns how many expired.
local due_key, due_index, retry_key, deliveries_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local fn, retention = ARGV[1], tonumber(ARGV[2])

local now, vnow = clock(ARGV[3])
local expired = 0
for _, t in ipairs(candidates(5, 4, retry_key)) do
  local due = redis.call('ZSCORE', due_key, t.member)
  if due and tonumber(due) <= vnow then
    local f = redis.call('HMGET', t.task, 'created', 'maxAge', 'vcreated')
    if not f[1] then
      redis.call('ZREM', due_key, t.member)  -- its record is gone: nothing left to run or to expire
      redis.call('ZREM', retry_key, t.member)
    elseif vnow - tonumber(f[3] or f[1]) > tonumber(f[2]) then
      redis.call('ZREM', due_key, t.member)
      close_task(t, deliveries_key, 'Expired', now, 'older than maxAsyncEventAgeInSeconds', retention)
      expired = expired + 1
    end
  end
end
reindex_due(due_key, due_index, fn)
return expired
