"""The temporary credentials FC hands a function that has a role, as fcemu's settings supply them."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FunctionCredentials:
    access_key_id: str
    # Kept out of repr so that no log line or traceback can print them.
    access_key_secret: str = field(repr=False)
    security_token: str = field(default="", repr=False)


def credentials_from(access_key_id: str, access_key_secret: str, security_token: str) -> FunctionCredentials | None:
    """Credentials from three values; None when none is set. A key id without its secret (or the reverse) is an
    error: a function would get half a key pair and fail far from the cause."""
    if not (access_key_id or access_key_secret or security_token):
        return None
    if not access_key_id or not access_key_secret:
        raise ValueError("both an access key id and its secret are needed (the security token is optional)")
    return FunctionCredentials(access_key_id, access_key_secret, security_token)


def read_credentials_file(path: Path) -> FunctionCredentials:
    """A JSON file in the shape of STS AssumeRole's answer: {"AccessKeyId", "AccessKeySecret", "SecurityToken"},
    at the top level or under "Credentials" (so `aliyun sts AssumeRole ... > file` can be used as it is)."""
    try:
        document: Any = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not JSON ({error.msg} at line {error.lineno})") from error
    if isinstance(document, dict) and isinstance(document.get("Credentials"), dict):
        document = document["Credentials"]
    if not isinstance(document, dict):
        raise ValueError(  # noqa: TRY004 - a settings error, reported with the others as ValueError
            f"{path} must hold a JSON object with AccessKeyId, AccessKeySecret and SecurityToken")
    values = [document.get(name, "") for name in ("AccessKeyId", "AccessKeySecret", "SecurityToken")]
    if not all(isinstance(value, str) for value in values):
        raise ValueError(
            f"{path}: AccessKeyId, AccessKeySecret and SecurityToken must be strings")
    try:
        found = credentials_from(*values)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error
    if found is None:
        raise ValueError(f"{path} holds no AccessKeyId/AccessKeySecret")
    return found
