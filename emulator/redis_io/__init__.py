"""The Redis plumbing every part shares: the clients from FCEMU_REDIS_URL (single or Cluster), the outage probe,
the loops' resilience helpers, and the typed views of redis-py's replies."""
