"""FC's ARNs as fcemu writes them, and as its own parsers read them back."""
from __future__ import annotations

from emulator.arns import function_arn, function_arn_prefix, layer_version_arn
from emulator.catalog.layers import LAYER_ARN
from emulator.destinations.targets import FC3_FUNCTION


def test_a_function_arn_is_its_prefix_and_name_and_reads_back() -> None:
    arn = function_arn("cn-hangzhou", "123", "mailer")
    assert arn == "acs:fc:cn-hangzhou:123:functions/mailer" == function_arn_prefix("cn-hangzhou", "123") + "mailer"
    found = FC3_FUNCTION.match(arn)
    assert found is not None and found.group("function") == "mailer"


def test_a_layer_version_arn_reads_back() -> None:
    arn = layer_version_arn("cn-hangzhou", "123", "pricing", 2)
    found = LAYER_ARN.match(arn)
    assert arn == "acs:fc:cn-hangzhou:123:layers/pricing/versions/2" and found is not None
    assert found.groups() == ("pricing", "2")
