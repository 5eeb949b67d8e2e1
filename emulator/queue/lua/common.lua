-- Shared by the queue's scripts (the loader prepends it to every one but advance_clock.lua): Redis's clock,
-- events, the due index and closing a task. It takes no KEYS or ARGV of its own: its helpers take every key
-- from their caller (candidates() reads the {task, events} pairs and the members from the KEYS and ARGV
-- positions its caller names).

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- `fcemu clock advance`'s offset (ms), passed in by the caller: due times, backoff and max event age are on the
-- advanced ("virtual") clock, Redis's time plus this; leases stay on Redis's time. Set by clock().
local clock_offset = 0

-- Redis's time and the virtual time (ms). Every script calls it once, before any event is written.
local function clock(offset)
  clock_offset = tonumber(offset) or 0
  local now = now_ms()
  return now, now + clock_offset
end

-- Every state change is also published (`<status> <events key>`), so that a watcher can await it.
local TASK_EVENTS_CHANNEL = 'fcemu:task-events'

-- `at` is Redis's time; once the clock was advanced, the event also says the virtual time it happened at.
local function add_event(events_key, status, at, detail)
  local n = redis.call('LLEN', events_key)
  local event = {eventId = n, status = status, timestamp = at, eventDetail = detail or ''}
  if clock_offset > 0 then
    event.virtualTimestamp = at + clock_offset
  end
  redis.call('RPUSH', events_key, cjson.encode(event))
  redis.call('PUBLISH', TASK_EVENTS_CHANNEL, status .. ' ' .. events_key)
end

-- Keeps a function's entry in the due index at its earliest due time, or drops it when nothing is due.
local function reindex_due(due_key, due_index, fn)
  local first = redis.call('ZRANGE', due_key, 0, 0, 'WITHSCORES')
  if first[2] then
    redis.call('ZADD', due_index, first[2], fn)
  else
    redis.call('ZREM', due_index, fn)
  end
end

-- Puts a task on its function's due set; nudges dispatchers when it is now that function's earliest entry,
-- since a dispatcher may be asleep until a later one.
local function schedule(due_key, due_index, fn, member, due, wake_channel)
  local earliest = redis.call('ZSCORE', due_index, fn)
  redis.call('ZADD', due_key, due, member)
  redis.call('ZADD', due_index, 'LT', due, fn)
  if not earliest or due < tonumber(earliest) then
    redis.call('PUBLISH', wake_channel, member)  -- the member: a dispatcher's next claim can name it
  end
end

-- Every key a script touches is one of its KEYS (a Redis Cluster routes a script by them): the helpers below
-- take each key from their caller, never build one.

-- Queues the delivery of a finished task's record to its destination, if it has one for this outcome:
-- onSuccess after Succeeded, onFailure after Failed (retries exhausted) or Expired.
local function schedule_delivery(task_key, deliveries_key, member, status, at)
  local field
  if status == 'Succeeded' then
    field = 'onSuccess'
  elseif status == 'Failed' or status == 'Expired' then
    field = 'onFailure'
  else
    return
  end
  local destination = redis.call('HGET', task_key, field)
  if not destination or destination == '' then
    return
  end
  redis.call('HSET', task_key, 'dest', 'Pending', 'destTarget', destination, 'destAttempt', 0)
  redis.call('ZADD', deliveries_key, at, member)
  -- The message is the shard's tag (a name, not a key the script touches).
  redis.call('PUBLISH', 'fcemu:deliver', string.match(deliveries_key, '^(.-}):'))
end

-- One task's keys, as the scripts pass them around: its record, its events, and its function's retrying set
-- (its due tasks waiting out a retry's backoff, for the metrics' queue depth; every way off the due set takes
-- a task off this set too).
local function task_keys(member, task_key, events_key, retry_key)
  return {member = member, task = task_key, events = events_key, retry = retry_key}
end

-- A final state: end time, event, the destination's delivery, and the record kept for the retention period.
local function close_task(t, deliveries_key, status, at, detail, retention)
  redis.call('HSET', t.task, 'status', status, 'end', at)
  redis.call('ZREM', t.retry, t.member)
  add_event(t.events, status, at, detail)
  schedule_delivery(t.task, deliveries_key, t.member, status, at)
  redis.call('EXPIRE', t.task, retention)
  redis.call('EXPIRE', t.events, retention)
end

-- Marks a held task Running on an instance (start.lua, and claim_due for tasks given an instance at once).
local function mark_running(task_key, events_key, instance_id, now)
  redis.call('HSET', task_key, 'status', 'Running', 'inst', instance_id)
  redis.call('HSETNX', task_key, 'ran', now)
  add_event(events_key, 'Running', now, instance_id)
end

-- The candidates a caller passed for a claim: KEYS from `first_key` on are {task, events} pairs of the members
-- in ARGV from `first_arg` on (read from the due set before the call, or returned by the last claim).
local function candidates(first_key, first_arg, retry_key)
  local found = {}
  for i = first_arg, #ARGV do
    local k = first_key + (i - first_arg) * 2
    table.insert(found, task_keys(ARGV[i], KEYS[k], KEYS[k + 1], retry_key))
  end
  return found
end

-- Claims up to `max` due tasks of one function (shared by claim.lua and finish.lua, which claims the next task
-- for the slot it frees), among the `cands` (task_keys) the caller declared: each is checked to be due still
-- (another dispatcher may have claimed it since it was read), earliest first. The n-th claimed task is also
-- marked Running on `instance_ids[n]` when there is one: the dispatcher holds those warm instances for them,
-- and is spared start.lua's round trip. Due and age are judged on the virtual time `vnow`, the lease on Redis's
-- time `now`.
-- Returns the claimed tasks, the expired ones, the function's first `upcoming` members of its due set after
-- the claim (the caller's candidates for its next claim), and 1 when a due task was left that no candidate
-- named (the caller's candidates were stale: it claims again with the upcoming ones).
local function claim_due(due_key, due_index, inflight_key, deliveries_key, fn, cands, max, lease_ms, retention,
                         now, vnow, instance_ids, upcoming)
  local due = {}
  for _, t in ipairs(cands) do
    local score = redis.call('ZSCORE', due_key, t.member)
    if score and tonumber(score) <= vnow then
      t.score = tonumber(score)
      table.insert(due, t)
    end
  end
  table.sort(due, function(a, b) return a.score < b.score end)
  local claimed, expired = {}, {}
  for i = 1, math.min(#due, max) do
    local t = due[i]
    redis.call('ZREM', due_key, t.member)
    redis.call('ZREM', t.retry, t.member)
    local f = redis.call('HMGET', t.task, 'created', 'maxAge', 'payload', 'rid', 'retried', 'id', 'kind', 'ver',
      'vcreated', 'qualifier')
    if f[1] then
      if vnow - tonumber(f[9] or f[1]) > tonumber(f[2]) then
        close_task(t, deliveries_key, 'Expired', now, 'older than maxAsyncEventAgeInSeconds', retention)
        table.insert(expired, t.member)
      else
        local attempt = redis.call('HINCRBY', t.task, 'attempt', 1)
        redis.call('ZADD', inflight_key, now + lease_ms, t.member)
        add_event(t.events, 'Dequeued', now, '')
        local instance_id = instance_ids[#claimed + 1]
        if instance_id then
          mark_running(t.task, t.events, instance_id, now)
        else
          redis.call('HSET', t.task, 'status', 'Dequeued')
        end
        -- Its due time too, for the metrics' lateness (the claim's reply carries `now`): on Redis's clock, so
        -- that an advanced clock does not make every claim look an hour late.
        table.insert(claimed, {t.member, attempt, f[5], f[4], f[3], f[6], f[7] or '', f[8] or '',
          t.score - clock_offset, f[10] or ''})
      end
    end
  end
  reindex_due(due_key, due_index, fn)
  local next_members = {}
  local more = 0
  if upcoming > 0 then
    local rows = redis.call('ZRANGE', due_key, 0, upcoming - 1, 'WITHSCORES')
    for i = 1, #rows, 2 do
      table.insert(next_members, rows[i])
    end
    if #claimed + #expired < max and rows[2] and tonumber(rows[2]) <= vnow then
      more = 1
    end
  end
  return claimed, expired, next_members, more
end
