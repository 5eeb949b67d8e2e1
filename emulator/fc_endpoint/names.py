"""The names FC's SDKs call FC's API by, from inside an instance: `<account>.<region>.fc.aliyuncs.com` (public)
and `<account>.<region>-internal.fc.aliyuncs.com` (the region's internal network, what FC's samples use)."""
from __future__ import annotations

FC_DOMAIN = "fc.aliyuncs.com"


def endpoint_names(account_id: str, region: str) -> tuple[str, ...]:
    """The emulator's account's endpoints in its region, lower-cased as Host names compare."""
    return tuple(f"{account_id}.{region}{suffix}.{FC_DOMAIN}".lower() for suffix in ("", "-internal"))
