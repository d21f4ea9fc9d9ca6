"""Deploy-time context validation: a bad value fails with the context key named (no synth needed)."""

from __future__ import annotations

import re
import sys

import pytest
from cdk_helpers import INFRA


@pytest.mark.parametrize("context, message", [
    ({"crimecast:auth": "cognito"}, "crimecast:auth"),
    ({"crimecast:auth": "jwt"}, "jwtIssuer"),
    ({"crimecast:forecastSchedule": "every day"}, "forecastSchedule"),
    ({"crimecast:logRetentionDays": "45"}, "logRetentionDays"),
    ({"crimecast:corsOrigins": "ftp://x"}, "corsOrigins"),
    ({"crimecast:apiPackaging": "container"}, "apiPackaging"),
    ({"crimecast:reportAllocationUnits": "0"}, "crimecast:reportAllocationUnits=0: expected 1..100000"),
    ({"crimecast:reportAllocationUnits": "100001"}, "crimecast:reportAllocationUnits=100001: expected 1..100000"),
    ({"crimecast:reportAllocationUnits": "twelve"}, "crimecast:reportAllocationUnits='twelve': expected an integer"),
])
def test_bad_context_is_rejected_with_the_key_named(context: dict[str, str], message: str) -> None:
    if str(INFRA) not in sys.path:
        sys.path.insert(0, str(INFRA))
    from aws_cdk import App
    from crimecast_infra.config import ConfigError, DeployConfig

    with pytest.raises(ConfigError, match=re.escape(message)):
        DeployConfig.from_context(App(context=context))


@pytest.mark.parametrize("value, expected", [(None, None), ("", None), ("12", 12), (250, 250), ("100000", 100_000)])
def test_report_allocation_units_is_optional(value: object, expected: int | None) -> None:
    if str(INFRA) not in sys.path:
        sys.path.insert(0, str(INFRA))
    from aws_cdk import App
    from crimecast_infra.config import DeployConfig

    context = {} if value is None else {"crimecast:reportAllocationUnits": value}
    assert DeployConfig.from_context(App(context=context)).report_allocation_units == expected
