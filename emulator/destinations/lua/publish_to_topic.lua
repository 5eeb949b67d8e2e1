-- Stores a topic's message and its place in the topic's outbox, in one step.
-- KEYS[1]: the topic's list, KEYS[2]: its outbox. ARGV[1]: the message id, ARGV[2]: the message (JSON).
local topic_key, outbox_key = KEYS[1], KEYS[2]
redis.call('RPUSH', topic_key, ARGV[2])
redis.call('HSET', outbox_key, ARGV[1], ARGV[2])
return 1
