"""FC's resource names (ARNs) as fcemu writes them: `acs:fc:<region>:<account>:...`, formatted here alone (parsing
a destination's or a layer's ARN is done where each is read: destinations/targets.py, catalog/layers.py)."""
from __future__ import annotations


def function_arn_prefix(region: str, account_id: str) -> str:
    """What every FC 3.0 function ARN of this account and region starts with; the function's name follows."""
    return f"acs:fc:{region}:{account_id}:functions/"


def function_arn(region: str, account_id: str, function: str) -> str:
    return function_arn_prefix(region, account_id) + function


def qualified_name(function: str, qualifier: str) -> str:
    """What follows the prefix in the ARN of a function invoked through a qualifier: `name:qualifier` for a version
    or an alias (fcemu's form: FC documents no qualified FC 3.0 function ARN), the bare name for LATEST."""
    return function if qualifier in ("", "LATEST") else f"{function}:{qualifier}"


def layer_version_arn(region: str, account_id: str, layer: str, version: int) -> str:
    return f"acs:fc:{region}:{account_id}:layers/{layer}/versions/{version}"
