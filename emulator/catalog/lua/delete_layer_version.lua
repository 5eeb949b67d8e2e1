-- KEYS: layer hash. ARGV: version. Returns 1 when a live version was marked deleted.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'deleted:' .. ARGV[1], '1') == 0 then return 0 end
return 1
