"""The names the official SDKs call Alibaba Cloud's APIs by, from inside an instance, for the emulator's account
and region: FC's (`<account>.<region>.fc.aliyuncs.com` public, `<account>.<region>-internal.fc.aliyuncs.com` the
region's internal network, what FC's samples use) and MNS's (`<account>.mns.<region>[-internal[-vpc]].aliyuncs.com`),
which fcemu serves locally. Every name here resolves to the emulator inside instances and is on its certificate."""
from __future__ import annotations

FC_DOMAIN = "fc.aliyuncs.com"
# MNS's networks: public, the region's internal one, and its VPC one (ali-mns's NetworkType.VPC).
MNS_NETWORKS = ("", "-internal", "-internal-vpc")


def endpoint_names(account_id: str, region: str) -> tuple[str, ...]:
    """FC's endpoints of the emulator's account in its region, lower-cased as Host names compare."""
    return tuple(f"{account_id}.{region}{suffix}.{FC_DOMAIN}".lower() for suffix in ("", "-internal"))


def mns_endpoint_names(account_id: str, region: str) -> tuple[str, ...]:
    """MNS's endpoints of the emulator's account in its region, lower-cased."""
    return tuple(f"{account_id}.mns.{region}{network}.aliyuncs.com".lower() for network in MNS_NETWORKS)


def instance_endpoint_names(account_id: str, region: str) -> tuple[str, ...]:
    """Every name an instance reaches the emulator by: FC's first (the certificate's subject), then MNS's."""
    return endpoint_names(account_id, region) + mns_endpoint_names(account_id, region)
