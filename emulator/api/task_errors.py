"""The async task errors, with each API version's names for them."""
from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from emulator.api.errors import V2_PREFIX, FCError


@dataclass(frozen=True)
class TaskErrors:
    noun: str
    code_stem: str

    def already_exists(self, task_id: str) -> FCError:
        return FCError(409, f"{self.code_stem}AlreadyExists", f"{self.noun} '{task_id}' already exists")

    def not_found(self, task_id: str) -> FCError:
        return FCError(404, f"{self.code_stem}NotFound", f"{self.noun} '{task_id}' does not exist")

    def already_completed(self, task_id: str, status: str = "") -> FCError:
        state = f" ({status})" if status else ""
        return FCError(412, f"{self.code_stem}AlreadyCompleted", f"{self.noun} '{task_id}' has already completed{state}")


V2_TASK_ERRORS = TaskErrors("stateful async invocation", "StatefulAsyncInvocation")
V3_TASK_ERRORS = TaskErrors("async task", "AsyncTask")


def task_errors(request: Request) -> TaskErrors:
    return V2_TASK_ERRORS if request.url.path.startswith(V2_PREFIX) else V3_TASK_ERRORS
