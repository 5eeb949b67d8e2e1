"""Function log lines kept per invocation (request id, task id) in Redis, and read back."""
