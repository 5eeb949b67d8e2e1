"""The two signature schemes against the SDKs' own signing code (pure logic, no server)."""
from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from alibabacloud_tea_openapi.utils import Utils
from fc2.auth import Auth

from emulator.api.signatures import SignatureProblem, SignedRequest, verify, verify_mns

KEYS = {"my-ak": "my-secret"}


def fc2_request(secret: str = "my-secret", date: str | None = None) -> SignedRequest:
    path = "/2016-08-15/services/default.LATEST/functions/hello/invocations"
    headers = {"date": date or email.utils.formatdate(usegmt=True), "content-type": "application/json",
               "x-fc-invocation-type": "Async", "x-fc-async-delay": "5"}
    headers["authorization"] = Auth("my-ak", secret).sign_request("POST", path, headers)
    return SignedRequest("POST", path, [], {k.lower(): v for k, v in headers.items()}, b"{}")


class _TeaRequest:
    def __init__(self, method: str, pathname: str, query: dict[str, str], headers: dict[str, str]) -> None:
        self.method, self.pathname, self.query, self.headers = method, pathname, query, headers


def acs3_request(body: bytes = b"{}", secret: str = "my-secret", tamper_body: bool = False) -> SignedRequest:
    digest = hashlib.sha256(body).hexdigest()
    headers = {
        "host": "127.0.0.1:9000", "x-acs-version": "2023-03-30", "x-acs-action": "ListAsyncTasks",
        "x-acs-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "x-acs-content-sha256": digest,
    }
    query = {"prefix": "a b/c", "limit": "10"}
    tea = _TeaRequest("GET", "/2023-03-30/functions/hello/async-tasks", query, dict(headers))
    headers["authorization"] = Utils.get_authorization(tea, "ACS3-HMAC-SHA256", digest, "my-ak", secret)
    return SignedRequest("GET", tea.pathname, list(query.items()), headers, b"tampered" if tamper_body else body)


def test_fc2_signature_verifies() -> None:
    assert verify(fc2_request(), KEYS) == "my-ak"


def test_acs3_signature_verifies() -> None:
    assert verify(acs3_request(), KEYS) == "my-ak"


# Signed when the test runs, not when it is collected: a suite that runs longer than FC's allowed clock skew (15
# minutes) before reaching this module would otherwise meet RequestTimeTooSkewed first.
@pytest.mark.parametrize("signed", [fc2_request, acs3_request], ids=["fc2", "acs3"])
def test_a_wrong_secret_does_not_match(signed: Callable[..., SignedRequest]) -> None:
    with pytest.raises(SignatureProblem) as raised:
        verify(signed(secret="wrong"), KEYS)
    assert (raised.value.status, raised.value.code) == (403, "SignatureNotMatch")


def test_an_unknown_access_key() -> None:
    with pytest.raises(SignatureProblem) as raised:
        verify(fc2_request(), {"other": "x"})
    assert (raised.value.status, raised.value.code) == (403, "InvalidAccessKeyID")


def test_a_changed_body_does_not_match() -> None:
    with pytest.raises(SignatureProblem) as raised:
        verify(acs3_request(tamper_body=True), KEYS)
    assert raised.value.code == "SignatureNotMatch"


def test_a_request_dated_too_far_from_now_is_refused() -> None:
    old = email.utils.format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    with pytest.raises(SignatureProblem) as raised:
        verify(fc2_request(date=old), KEYS)
    assert (raised.value.status, raised.value.code) == (403, "RequestTimeTooSkewed")


def test_no_authorization_header() -> None:
    with pytest.raises(SignatureProblem) as raised:
        verify(SignedRequest("GET", "/", [], {}, b""), KEYS)
    assert (raised.value.status, raised.value.code) == (400, "MissingRequiredHeader")


def mns_request(secret: str = "my-secret", date: str | None = None, authorization: str | None = None
                ) -> SignedRequest:
    """Signed by MNS's documented formula (base64 HMAC-SHA1 over method, Content-MD5, Content-Type, Date, the
    sorted x-mns-* headers and the resource with its query), as aliyun-mns computes it."""
    resource = "/queues/jobs/messages?numOfMessages=2"
    headers = {"date": date or email.utils.formatdate(usegmt=True), "content-type": "text/xml;charset=UTF-8",
               "content-md5": "abc=", "x-mns-version": "2015-06-06", "x-mns-user-request-id": "r1"}
    text = "\n".join(["GET", "abc=", "text/xml;charset=UTF-8", headers["date"],
                      "x-mns-user-request-id:r1\nx-mns-version:2015-06-06\n" + resource])
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()
    headers["authorization"] = authorization or f"MNS my-ak:{base64.b64encode(digest).decode()}"
    return SignedRequest("GET", resource, [], headers)


def test_mns_signature_and_its_errors_use_mns_codes() -> None:
    assert verify_mns(mns_request(), KEYS) == "my-ak"
    cases = [
        (mns_request(secret="other"), 403, "SignatureDoesNotMatch"),
        (mns_request(authorization="MNS nobody:x"), 403, "InvalidAccessKeyId"),
        (mns_request(authorization="FC my-ak:x"), 400, "InvalidAuthorizationHeader"),
        (mns_request(authorization="MNS my-ak:\u00e9"), 400, "InvalidAuthorizationHeader"),
        (mns_request(date="yesterday"), 400, "InvalidDateHeader"),
        (mns_request(date=email.utils.format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)),
         408, "TimeExpired"),
    ]
    for request, status, code in cases:
        with pytest.raises(SignatureProblem) as raised:
            verify_mns(request, KEYS)
        assert (raised.value.status, raised.value.code) == (status, code)
    unsigned = SignedRequest("GET", "/", [], {})
    with pytest.raises(SignatureProblem, match="Authorization header is required"):
        verify_mns(unsigned, KEYS)
