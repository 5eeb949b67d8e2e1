"""The credentials the tests give functions with a role (key id, secret, token), that role, and the credential
headers a caller forges, which must never reach a function."""
from __future__ import annotations

KEY_ID = "STS.test-key-id"
SECRET = "test-secret-never-logged-5b1f"
TOKEN = "CAIS-test-token-never-logged-77aa"
ROLE = "acs:ram::1234567890123456:role/fcemu-test"
FORGED = {"x-fc-access-key-id": "forged-id", "x-fc-access-key-secret": "forged-secret",
          "x-fc-security-token": "forged-token"}
