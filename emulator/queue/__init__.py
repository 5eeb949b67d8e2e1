"""The durable async queue in Redis: key names, the Lua scripts (one transition each) and the task store."""
