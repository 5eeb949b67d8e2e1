-- Removes a code zip that no function record or version names (left by versions before code went with its last user).
--
-- KEYS[1]: the functions hash (name -> record)
-- KEYS[2]: the code key
-- KEYS[3]: the published versions' hash (their code stays)
-- ARGV[1]: the code's checksum
-- ARGV[2]: the code key prefix
--
-- Returns 1 when the code was removed, else 0.
return drop_if_unreferenced(KEYS[1], KEYS[3], ARGV[2], ARGV[1], KEYS[2])
