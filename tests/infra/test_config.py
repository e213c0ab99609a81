"""Stage settings: defaults per stage, overridden by cdk.json `stages.<stage>` and by `-c key=value`."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App

from infra.aws.config import DEFAULTS, StageConfig, resolve


def config_for(**context: Any) -> StageConfig:
    return resolve(App(context=context).node)


def test_dev_is_the_default_and_prod_is_protected() -> None:
    assert config_for().stage == "dev"
    prod = config_for(stage="prod")
    assert prod.retain_data
    assert prod.deletion_protection
    assert prod.mfa_required
    assert prod.name_suffix == ""
    assert DEFAULTS["dev"].physical_name("payments") == "payments-dev"


def test_cdk_json_stage_settings_then_command_line_win() -> None:
    stages = {"prod": {"log_retention_days": 731, "alarm_email": "ops@example.com"}}
    assert config_for(stage="prod", stages=stages).log_retention_days == 731
    config = config_for(stage="prod", stages=stages, log_retention_days="90", mfa_required="false")
    assert config.log_retention_days == 90
    assert config.mfa_required is False
    assert config.alarm_email == "ops@example.com"


def test_lists_and_optional_values_from_the_command_line() -> None:
    config = config_for(stripe_webhook_ips="1.2.3.4, 5.6.7.8", user_pool_id="")
    assert config.stripe_webhook_ips == ("1.2.3.4", "5.6.7.8")
    assert config.user_pool_id is None


@pytest.mark.parametrize(
    "context",
    [
        {"stage": "qa"},
        {"log_retention_days": "13"},
        {"domain_name": "api.example.com"},
        {"stages": {"dev": {"no_such_setting": 1}}},
        {"mfa_required": "maybe"},
    ],
)
def test_bad_settings_fail_synthesis(context: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        config_for(**context)
