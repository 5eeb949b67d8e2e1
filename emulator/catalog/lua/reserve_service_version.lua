-- Reserves the id of an FC 2.0 service version, unless the service's content is that of its newest version: one
-- above the last id handed out to the service and to each of its functions, so that every function's version
-- takes the same id (a service version N is version N of each of its functions). Stores the service's record and
-- moves every counter up to the id.
--
-- KEYS[1]: the versions hash
-- ARGV[1]: the service's name there (`service:<name>`)
-- ARGV[2]: the record (JSON, without its id)
-- ARGV[3]: the record's content (a digest of its functions' contents)
-- ARGV[4..]: the names of the service's functions
--
-- Returns the id; 0 when nothing changed since the service's newest version.
local last = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
for id = last, 1, -1 do
  local record = redis.call('HGET', KEYS[1], ARGV[1] .. '/' .. id)
  if record then
    local ok, decoded = pcall(cjson.decode, record)
    if ok and type(decoded) == 'table' and decoded.content == ARGV[3] then return 0 end
    break
  end
end
local highest = last
for i = 4, #ARGV do
  local counter = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  if counter > highest then highest = counter end
end
local id = highest + 1
redis.call('HSET', KEYS[1], ARGV[1], id, ARGV[1] .. '/' .. id, ARGV[2])
for i = 4, #ARGV do redis.call('HSET', KEYS[1], ARGV[i], id) end
return id
