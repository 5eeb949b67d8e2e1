-- The queue depth of one shard for a metrics scrape, read-only: per function with queued tasks,
-- {function, due now, deferred, retrying, oldest due age (ms)}, where first attempts due now and deferred
-- ones exclude the tasks waiting out a retry's backoff (retrying); and per function with claimed tasks,
-- {function, in flight}. The keys all carry the shard's hash tag, as every queue key does.
-- Due is judged on the advanced clock (ARGV[3], the clock offset), as the dispatcher judges it.
-- Returns {now, queued rows, in-flight rows}.
local due_index, inflight_key = KEYS[1], KEYS[2]
local due_prefix, retrying_prefix = ARGV[1], ARGV[2]

local _, now = clock(ARGV[3])
local queued = {}
for _, fn in ipairs(redis.call('ZRANGE', due_index, 0, -1)) do
  local due_key, retry_key = due_prefix .. fn, retrying_prefix .. fn
  local total, due_now = redis.call('ZCARD', due_key), redis.call('ZCOUNT', due_key, '-inf', now)
  local retrying, retrying_due = redis.call('ZCARD', retry_key), redis.call('ZCOUNT', retry_key, '-inf', now)
  local first = redis.call('ZRANGE', due_key, 0, 0, 'WITHSCORES')
  local oldest = 0
  if first[2] and tonumber(first[2]) < now then
    oldest = now - tonumber(first[2])
  end
  table.insert(queued, {fn, due_now - retrying_due, total - due_now - (retrying - retrying_due), retrying, oldest})
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
