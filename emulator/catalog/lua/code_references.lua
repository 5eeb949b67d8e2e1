-- Shared by the scripts that change a function record and its code together (the loader prepends it to
-- save_function, delete_function, sweep_code and the versions' scripts). A code key lives exactly as long as some
-- function record or published version names its checksum: the record and the code change in one script, so a create of another function with the same code
-- can never lose its zip to a cleanup. It takes no KEYS or ARGV of its own: its helpers take every key from their
-- caller.

local function checksum_of(record)
  local ok, decoded = pcall(cjson.decode, record)
  if ok and type(decoded) == 'table' and type(decoded.codeChecksum) == 'string' then
    return decoded.codeChecksum
  end
  return ''
end
-- Every key is declared (a Cluster routes a script by its keys): `code_key` is the caller's guess of the old
-- record's code key, dropped only when it is that record's indeed (else sweep_code finds it at the next start).
-- `versions` is the published versions' hash (its counters are plain numbers, which name no checksum).
local function drop_if_unreferenced(functions, versions, prefix, sum, code_key)
  if sum == '' or prefix .. sum ~= code_key then return 0 end
  for _, hash in ipairs({functions, versions}) do
    for _, value in ipairs(redis.call('HVALS', hash)) do
      if checksum_of(value) == sum then return 0 end
    end
  end
  return redis.call('DEL', code_key)
end
