"""FC's ARNs as fcemu writes them, and as its own parsers read them back."""
from __future__ import annotations

from emulator.arns import function_arn, function_arn_prefix, layer_version_arn, qualified_name
from emulator.catalog.layers import LAYER_ARN
from emulator.destinations.targets import FC3_FUNCTION, FunctionTarget, parse_destination


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


def test_a_qualified_function_arn_names_its_qualifier_and_reads_back() -> None:
    prefix = function_arn_prefix("cn-hangzhou", "123")
    assert prefix + qualified_name("mailer", "LATEST") == function_arn("cn-hangzhou", "123", "mailer")
    assert qualified_name("mailer", "") == "mailer"
    arn = prefix + qualified_name("mailer", "prod")
    assert arn == "acs:fc:cn-hangzhou:123:functions/mailer:prod"
    assert parse_destination(arn) == FunctionTarget(None, "mailer", "prod")
    assert parse_destination(function_arn("cn-hangzhou", "123", "mailer")) == FunctionTarget(None, "mailer", "")
    fc2 = "acs:fc:cn-hangzhou:123:services/shop.2/functions/mailer"
    assert parse_destination(fc2) == FunctionTarget("shop", "mailer", "2")
