-- KEYS: functions hash, code key. ARGV: checksum, code key prefix. Returns 1 when the code was removed.
return drop_if_unreferenced(KEYS[1], ARGV[2], ARGV[1], KEYS[2])
