"""Reading a request's JSON body, the one way every management route does it.

FC's SDKs send unset fields as explicit nulls (fc-go-sdk's PutFunctionAsyncInvokeConfig sends
`"destinationConfig": null`), and FC takes them as absent: so does fcemu, at every depth, before any field is
looked at. A body that is not JSON, or not a JSON object, is FastAPI's RequestValidationError, which
errors.py answers with 400 InvalidArgument.
"""
from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import Body, Depends
from pydantic import BaseModel, model_validator

from emulator.api.errors import FCError

# No FC request nests anywhere near this deep; a body that does is refused before anything recurses into it.
MAX_DEPTH = 64


def drop_nulls(value: Any, depth: int = 0, path: str = "body") -> Any:
    """The value with every null member of every object left out (list items stay, nulls included: a list's
    positions mean something). Text that UTF-8 cannot hold (a lone surrogate such as "\\ud800", which JSON
    allows) is refused here, before anything stores it or writes it out."""
    if depth > MAX_DEPTH and isinstance(value, (dict, list)):
        raise FCError(400, "InvalidArgument", f"the request body nests objects and arrays deeper than {MAX_DEPTH}")
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            where = f"{path}.{_utf8(key, path)}" if path != "body" else _utf8(key, path)
            if item is not None:
                kept[key] = drop_nulls(item, depth + 1, where)
        return kept
    if isinstance(value, list):
        return [drop_nulls(item, depth + 1, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, str):
        _utf8(value, path)
    return value


def _utf8(text: str, path: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise FCError(400, "InvalidArgument", f"{path} holds text that is not valid Unicode (a lone surrogate)") from error
    return text


def _json_object(body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    return drop_nulls(body)  # type: ignore[no-any-return]


# A route's body as a plain object, nulls dropped: `body: JsonObject`.
JsonObject = Annotated[dict[str, Any], Depends(_json_object)]


def optional_object(raw: bytes) -> dict[str, Any] | None:
    """A body that may be left out (fcemu's own routes): None when empty, else a JSON object read as JsonObject
    reads one. Nesting too deep for the parser is refused like any other bad JSON."""
    if not raw.strip():
        return None
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as error:
        reason = str(error) if isinstance(error, ValueError) else f"it nests deeper than {MAX_DEPTH}"
        raise FCError(400, "InvalidArgument", f"the body is not valid JSON: {reason}") from error
    if not isinstance(body, dict):
        raise FCError(400, "InvalidArgument", "the body must be a JSON object")
    cleaned: dict[str, Any] = drop_nulls(body)
    return cleaned


# FC's rule for service and trigger names.
FC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,127}")
FC_NAME_RULE = "1 to 128 letters, digits, '_' or '-', not starting with a digit or '-'"


def text_field(body: dict[str, Any], name: str, *, default: str | None = None, pattern: re.Pattern[str] | None = None,
               rule: str = "") -> str:
    """A string field of a JsonObject body; without a default it is required and may not be empty. With a
    pattern, the whole value must match it (`rule` says how, in the error)."""
    value = body.get(name, default)
    if value is None or (default is None and value == ""):
        raise FCError(400, "InvalidArgument", f"{name} is required")
    if not isinstance(value, str):
        raise FCError(400, "InvalidArgument", f"{name} must be a string, got {_json_type(value)}")
    if pattern is not None and not pattern.fullmatch(value):
        shown = value if len(value) <= 64 else value[:64] + "..."
        raise FCError(400, "InvalidArgument", f"{name} '{shown}' is not valid: {rule}")
    return value


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "an object" if isinstance(value, dict) else "an array"


class NullsAreAbsent(BaseModel):
    """Base of a typed request body: nulls are dropped before validation, so that a null field is unset (it
    keeps its stored value on an update) rather than set to None."""

    @model_validator(mode="before")
    @classmethod
    def _drop_nulls(cls, data: Any) -> Any:
        return drop_nulls(data)
