"""Destinations of async invocations (onSuccess / onFailure): what they are, the record, and its delivery."""
