-- The queue depth of one shard for a metrics scrape, read-only: per function with queued tasks,
-- {function, due now, deferred, retrying, oldest due age (ms)}, where first attempts due now and deferred
-- ones exclude the tasks waiting out a retry's backoff (retrying); and per function with claimed tasks,
-- {function, in flight}. The keys all carry the shard's hash tag, as every queue key does.
-- Due is judged on the advanced clock, as the dispatcher judges it.
--
-- KEYS[1]: the shard's in-flight set
-- KEYS[2..]: a {due set, retrying set} pair per function, in the order of the functions
-- ARGV[1]: the clock offset (ms)
-- ARGV[2..]: the functions (read from the due index before the call)
--
-- Returns {now, queued rows, in-flight rows}.
local inflight_key = KEYS[1]

local _, now = clock(ARGV[1])
local queued = {}
for i = 2, #ARGV do
  local fn, due_key, retry_key = ARGV[i], KEYS[(i - 1) * 2], KEYS[(i - 1) * 2 + 1]
  local total, due_now = redis.call('ZCARD', due_key), redis.call('ZCOUNT', due_key, '-inf', now)
  if total > 0 then
    local retrying, retrying_due = redis.call('ZCARD', retry_key), redis.call('ZCOUNT', retry_key, '-inf', now)
    local first = redis.call('ZRANGE', due_key, 0, 0, 'WITHSCORES')
    local oldest = 0
    if first[2] and tonumber(first[2]) < now then
      oldest = now - tonumber(first[2])
    end
    table.insert(queued, {fn, due_now - retrying_due, total - due_now - (retrying - retrying_due), retrying, oldest})
  end
end
local counts, in_flight = {}, {}
for _, member in ipairs(redis.call('ZRANGE', inflight_key, 0, -1)) do
  local fn = string.match(member, '^([^/]*)/')
  if fn then
    counts[fn] = (counts[fn] or 0) + 1
  end
end
for fn, n in pairs(counts) do
  table.insert(in_flight, {fn, n})
end
return {now, queued, in_flight}
