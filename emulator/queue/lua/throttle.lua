-- Marks the due tasks of a function that FC's concurrency limits keep from running now (its reserved
-- concurrency, or the account's limit, is in use): each gets, once, an Enqueued event whose detail says it was
-- throttled. They stay in the due set, Enqueued; no attempt is counted and none is claimed.
--
-- KEYS[1]: the function's due set
-- KEYS[2..]: a {task, events} pair per candidate, in the order of their members
-- ARGV[1]: the clock offset (ms)
-- ARGV[2]: the event's detail
-- ARGV[3..]: the candidates' members
--
-- Returns how many tasks were marked.
local due_key, detail = KEYS[1], ARGV[2]
local now, vnow = clock(ARGV[1])

local marked = 0
for _, t in ipairs(candidates(2, 3, nil)) do
  local score = redis.call('ZSCORE', due_key, t.member)
  if score and tonumber(score) <= vnow and redis.call('HGET', t.task, 'throttled') ~= '1' then
    redis.call('HSET', t.task, 'throttled', '1')
    add_event(t.events, 'Enqueued', now, detail)
    marked = marked + 1
  end
end
return marked
