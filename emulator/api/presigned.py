"""Presigned URLs of the code zips GetFunctionCode names, as FC's OSS URLs are presigned: with access keys set, the
URL carries an access key id, an expiry and an HMAC-SHA256 of the function and the expiry under that key's secret,
so that a plain GET (curl, a browser's address bar, `requests`) downloads the zip without an FC signature until it
expires. Without keys the URL is plain: every request is accepted then. What is signed is the path between the
prefix and the suffix: `<function>`, or a version's `<function>/versions/<id>`."""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from urllib.parse import urlencode

CODE_ZIP_PREFIX = "/_fcemu/functions/"
CODE_ZIP_SUFFIX = "/code.zip"
# As long as FC's code URLs stay valid is not documented; an hour is OSS's usual presigned lifetime.
EXPIRES_S = 3600



def _signature(secret: str, function: str, expires: int) -> str:
    digest = hmac.new(secret.encode(), f"{function}\n{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def presigned_query(function: str, keys: Mapping[str, str], now: float | None = None) -> str:
    """The query string that presigns a function's code zip URL ("" without keys), under the first key."""
    if not keys:
        return ""
    access_key_id, secret = next(iter(keys.items()))
    expires = int(now if now is not None else time.time()) + EXPIRES_S
    return urlencode({"AccessKeyId": access_key_id, "Expires": expires,
                      "Signature": _signature(secret, function, expires)})


def is_presigned(path: str, query: Mapping[str, str], keys: Mapping[str, str], now: float | None = None) -> bool:
    """Whether a request is a code zip's download with a valid, unexpired presigned query."""
    if not (path.startswith(CODE_ZIP_PREFIX) and path.endswith(CODE_ZIP_SUFFIX)):
        return False
    secret = keys.get(query.get("AccessKeyId", ""))
    expires = query.get("Expires", "")
    if secret is None or not expires.isascii() or not expires.isdigit() or len(expires) > 12:
        return False
    if int(expires) < (now if now is not None else time.time()):
        return False
    function = path[len(CODE_ZIP_PREFIX):-len(CODE_ZIP_SUFFIX)]
    return hmac.compare_digest(query.get("Signature", "").encode(), _signature(secret, function, int(expires)).encode())
