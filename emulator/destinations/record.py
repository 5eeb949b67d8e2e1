"""The record FC delivers to a destination, built from a finished task."""
from __future__ import annotations

import json

from emulator.queue.models import TaskRecord

EXPIRED_CONDITION = "MaxAsyncEventAgeExceeded"
FUNCTION_ERROR_CONDITION = "UnhandledInvocationError"


def destination_record(task: TaskRecord, function_arn: str) -> bytes:
    """FC's shape: `condition` is empty on success, the error code on failure; an expired invocation never ran."""
    ran = task.status != "Expired"
    if task.status == "Succeeded":
        condition, function_error = "", ""
    elif ran:
        condition, function_error = FUNCTION_ERROR_CONDITION, FUNCTION_ERROR_CONDITION
    else:
        condition, function_error = EXPIRED_CONDITION, ""
    record = {
        "timestamp": task.end_ms,
        "requestContext": {
            "requestId": task.request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": task.attempts,
        },
        "requestPayload": task.payload.decode(errors="replace"),
        "responseContext": {"statusCode": 200 if ran else 0, "functionError": function_error},
        "responsePayload": task.return_payload.decode(errors="replace"),
    }
    return json.dumps(record).encode()
