"""Runs due async invocations: claims them from Redis within the pool's capacity, runs, records, retries."""
