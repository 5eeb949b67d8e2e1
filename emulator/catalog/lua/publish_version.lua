-- Publishes a version of a function: numbered one above the last id handed out (ids are never reused), unless
-- its content is that of the function's newest version; or under an id reserved for an FC 2.0 service version
-- (reserve_service_version.lua), whose content the service checked. The version's code zip is stored by checksum
-- (kept while any function or version names it).
--
-- KEYS[1]: the versions hash (`<function>/<id>` -> record, `<function>` -> the last id handed out)
-- KEYS[2]: the version's code key
-- ARGV[1]: the function's name
-- ARGV[2]: the record (JSON, without its id)
-- ARGV[3]: the record's content (a digest of its configuration and code)
-- ARGV[4]: the code zip ('' when the caller stored it before, as a deployed function's is)
-- ARGV[5]: '1' when the version has code, '0' for none (a custom container)
-- ARGV[6]: the id reserved for it, or '' for the next one
--
-- Returns the new version's id; 0 when nothing changed since the newest version; -1 when its code is no longer
-- stored (the function was updated meanwhile).
local last = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local reserved = tonumber(ARGV[6])
for id = reserved and 0 or last, 1, -1 do
  local record = redis.call('HGET', KEYS[1], ARGV[1] .. '/' .. id)
  if record then
    local ok, decoded = pcall(cjson.decode, record)
    if ok and type(decoded) == 'table' and decoded.content == ARGV[3] then return 0 end
    break
  end
end
if ARGV[5] == '1' then
  if ARGV[4] ~= '' then
    redis.call('SET', KEYS[2], ARGV[4], 'NX')
  elseif redis.call('EXISTS', KEYS[2]) == 0 then
    return -1
  end
end
local id = reserved or last + 1
if id > last then redis.call('HSET', KEYS[1], ARGV[1], id) end
redis.call('HSET', KEYS[1], ARGV[1] .. '/' .. id, ARGV[2])
return id
