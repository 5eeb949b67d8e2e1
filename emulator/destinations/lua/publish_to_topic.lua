-- Stores a topic's message and its place in the topic's outbox, in one step.
--
-- KEYS[1]: the topic's list
-- KEYS[2]: the topic's outbox (message id -> message)
-- ARGV[1]: the message id
-- ARGV[2]: the message (JSON)
--
-- Returns 1.
local topic_key, outbox_key = KEYS[1], KEYS[2]
redis.call('RPUSH', topic_key, ARGV[2])
redis.call('HSET', outbox_key, ARGV[1], ARGV[2])
return 1
