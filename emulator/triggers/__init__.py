"""Triggers: their definitions (manifest and API) and the timer scheduler that fires time triggers."""
