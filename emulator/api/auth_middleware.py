"""Requires a valid FC signature on every request when access keys are configured, and on every request from an
instance through FC's endpoint (ASGI middleware).

An instance signs with its role's temporary credentials (or the emulator's keys), and a role's security token must
be the one fcemu gave it, as STS's must in FC; a function without a role has no credentials, so its request is
refused as FC refuses it. Without keys, other requests pass unchecked (the unauthenticated local default).

The signature is checked on the headers before any of the body is read (2016-08-15 signs headers only; ACS3 signs
the body's declared hash), so an unsigned client cannot make the emulator hold a body; the body is then read up to
the route's limit and its hash checked against the signed one. Both the open paths and the limit are those of the
route the request goes to: a function's own origin is routed before this check (function_origins.py).
"""
from __future__ import annotations

import hmac
from collections.abc import Mapping

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.api.body_limit import BodyTooLarge, body_limit, read_body
from emulator.api.errors import error_response
from emulator.api.function_hosts import CLIENT_RAW_PATH
from emulator.api.instance_endpoint import FROM_INSTANCE
from emulator.api.presigned import is_presigned
from emulator.api.signatures import SignatureProblem, SignedRequest, verify, verify_body
from emulator.credentials import FunctionCredentials

# Read-only views a monitor polls (Prometheus cannot sign FC's way): they show names and counts, no payload.
OPEN_PATHS = frozenset({"/_fcemu/health", "/_fcemu/metrics"})


# Where each signature's client sends a security token: aliyun-fc2 signs x-fc-security-token, tea's ACS3 clients
# x-acs-security-token.
TOKEN_HEADERS = ("x-fc-security-token", "x-acs-security-token")


def _role_of(scope: Scope) -> FunctionCredentials | None:
    core = getattr(scope["app"].state, "core", None)
    return core.role_credentials if core is not None else None


def check_token(headers: Mapping[str, str], access_key_id: str, role: FunctionCredentials | None) -> None:
    """A role's key is good only with the security token that came with it."""
    if role is None or access_key_id != role.access_key_id or not role.security_token:
        return
    sent = next((headers[name] for name in TOKEN_HEADERS if headers.get(name)), "")
    if not hmac.compare_digest(sent.encode(), role.security_token.encode()):
        raise SignatureProblem(403, "InvalidSecurityToken",
                               "the security token is missing or is not the one issued with this access key")


class SignatureMiddleware:
    def __init__(self, app: ASGIApp, keys: Mapping[str, str], payload_limit: int) -> None:
        self._app = app
        self._keys = keys
        self._payload_limit = payload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from_instance = scope.get(FROM_INSTANCE, False)
        if (scope["type"] != "http" or scope["path"] in OPEN_PATHS
                or not (self._keys or from_instance)):
            await self._app(scope, receive, send)
            return
        if not from_instance and is_presigned(scope["path"], Request(scope).query_params, self._keys):
            await self._app(scope, receive, send)  # a code zip's presigned URL (GetFunctionCode) is its own signature
            return
        keys = self._keys
        role = _role_of(scope) if from_instance else None
        if role is not None:
            keys = {**keys, role.access_key_id: role.access_key_secret}
        request = Request(scope)
        signed = SignedRequest(
            method=scope["method"],
            # What the client sent: a function's own origin routes `/x` as `/http/{function}/x`.
            raw_path=scope.get(CLIENT_RAW_PATH, scope.get("raw_path") or scope["path"].encode()).decode("latin-1"),
            query=request.query_params.multi_items(),
            headers={name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]},
        )
        try:
            try:
                check_token(signed.headers, verify(signed, keys), role)
            except SignatureProblem as problem:
                if from_instance and problem.code in ("InvalidAccessKeyID", "MissingRequiredHeader"):
                    problem.message += (". A function gets credentials only when its service or function has a "
                                        "role (context.credentials, ALIBABA_CLOUD_ACCESS_KEY_*)")
                raise
            body = await read_body(scope, receive, body_limit(scope["method"], scope["path"], self._payload_limit))
            verify_body(signed.headers, body)
        except SignatureProblem as problem:
            response = error_response(request, problem.status, problem.code, problem.message)
            await response(scope, receive, send)
            return
        except BodyTooLarge as error:
            response = error_response(request, error.status, error.code, error.message)
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self._app(scope, replay, send)
