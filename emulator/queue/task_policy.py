"""What the queue is told of a function when it takes an async invocation of it: the function's name and
version, and its async config (task mode, retries, max event age, destinations), in the queue's own terms.

The catalog builds it from the function's definition and effective config (catalog/async_configs.py), so that
the queue knows nothing of manifests.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TaskPolicy:
    function: str
    # The definition's identity, recorded on the task: the version of the code that runs it.
    version: str
    # FC's asyncTask: invocations are stateful tasks unless the caller says otherwise.
    async_task: bool
    max_retry: int
    max_age_s: int
    # Destination ARNs; "" for none.
    on_success: str
    on_failure: str
