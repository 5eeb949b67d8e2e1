-- Shared by every script (prepended at load): Redis's clock, events, the due index and closing a task.

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
    redis.call('PUBLISH', wake_channel, fn)
  end
end

-- Tasks waiting out a retry's backoff, per function, scored by their due time: only for the metrics' queue
-- depth (depth.lua), which can then tell them from first attempts without reading any task's record. Every
-- way off the due set (claim_due, close_task, delete_function, expire_orphans) takes a task off this set too.
local function retrying_key(task_key)
  local tag, member = string.match(task_key, '^(.-}):task:(.*)$')
  return tag .. ':retrying:' .. string.match(member, '^([^/]*)/')
end

-- Queues the delivery of a finished task's record to its destination, if it has one for this outcome:
-- onSuccess after Succeeded, onFailure after Failed (retries exhausted) or Expired.
local function schedule_delivery(task_key, status, at)
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
  local tag = string.match(task_key, '^(.-}):task:')
  redis.call('HSET', task_key, 'dest', 'Pending', 'destTarget', destination, 'destAttempt', 0)
  redis.call('ZADD', tag .. ':deliveries', at, string.sub(task_key, #tag + 7))
  redis.call('PUBLISH', 'fcemu:deliver', tag)
end

-- A final state: end time, event, the destination's delivery, and the record kept for the retention period.
local function close_task(task_key, events_key, status, at, detail, retention)
  redis.call('HSET', task_key, 'status', status, 'end', at)
  redis.call('ZREM', retrying_key(task_key), string.match(task_key, ':task:(.*)$'))
  add_event(events_key, status, at, detail)
  schedule_delivery(task_key, status, at)
  redis.call('EXPIRE', task_key, retention)
  redis.call('EXPIRE', events_key, retention)
end

-- Marks a held task Running on an instance (start.lua, and claim_due for tasks given an instance at once).
local function mark_running(task_key, events_key, instance_id, now)
  redis.call('HSET', task_key, 'status', 'Running', 'inst', instance_id)
  redis.call('HSETNX', task_key, 'ran', now)
  add_event(events_key, 'Running', now, instance_id)
end

-- Claims up to `max` due tasks of one function (shared by claim.lua and finish.lua, which claims the next task
-- for the slot it frees). The n-th claimed task is also marked Running on `instance_ids[n]` when there is one:
-- the dispatcher holds those warm instances for them, and is spared start.lua's round trip.
-- Due and age are judged on the virtual time `vnow`, the lease on Redis's time `now`.
-- Returns the claimed tasks and the expired ones.
local function claim_due(due_key, due_index, inflight_key, fn, max, lease_ms, task_prefix, events_prefix,
                         retention, now, vnow, instance_ids)
  local due = redis.call('ZRANGEBYSCORE', due_key, '-inf', vnow, 'WITHSCORES', 'LIMIT', 0, max)
  local claimed, expired = {}, {}
  for i = 1, #due, 2 do
    local member = due[i]
    redis.call('ZREM', due_key, member)
    local task_key, events_key = task_prefix .. member, events_prefix .. member
    redis.call('ZREM', retrying_key(task_key), member)
    local f = redis.call('HMGET', task_key, 'created', 'maxAge', 'payload', 'rid', 'retried', 'id', 'kind', 'ver',
      'vcreated')
    if f[1] then
      if vnow - tonumber(f[9] or f[1]) > tonumber(f[2]) then
        close_task(task_key, events_key, 'Expired', now, 'older than maxAsyncEventAgeInSeconds', retention)
        table.insert(expired, member)
      else
        local attempt = redis.call('HINCRBY', task_key, 'attempt', 1)
        redis.call('ZADD', inflight_key, now + lease_ms, member)
        add_event(events_key, 'Dequeued', now, '')
        local instance_id = instance_ids[#claimed + 1]
        if instance_id then
          mark_running(task_key, events_key, instance_id, now)
        else
          redis.call('HSET', task_key, 'status', 'Dequeued')
        end
        -- Its due time too, for the metrics' lateness (the claim's reply carries `now`): on Redis's clock, so
        -- that an advanced clock does not make every claim look an hour late.
        table.insert(claimed, {member, attempt, f[5], f[4], f[3], f[6], f[7] or '', f[8] or '',
          tonumber(due[i + 1]) - clock_offset})
      end
    end
  end
  reindex_due(due_key, due_index, fn)
  return claimed, expired
end
