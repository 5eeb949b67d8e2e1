"""Prometheus metrics: counters kept in-process, gauges read at scrape time."""
