"""Stage settings: defaults per stage, overridden by cdk.json `stages.<stage>` and by `-c key=value`."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App

from infra.aws.config import DEFAULT_REGION, DEFAULTS, StageConfig, region, resolve
from tests.infra.stacks import REPO, Synth


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


@pytest.fixture
def no_region(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    """An environment naming no region (an empty AWS config file), as a fresh machine has."""
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    config_file = tmp_path / "aws-config"
    config_file.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    return config_file


def region_for(**context: Any) -> str:
    return region(App(context=context).node)


def test_without_any_region_the_cdk_json_default_wins_over_the_clis_us_east_1(
    no_region: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CDK CLI sets CDK_DEFAULT_REGION to us-east-1 when nothing names a region.
    monkeypatch.setenv("CDK_DEFAULT_REGION", "us-east-1")
    assert region_for(default_region="eu-west-1") == "eu-west-1"
    assert region_for() == DEFAULT_REGION


def test_the_profiles_region_then_the_environment_then_the_context_win(
    no_region: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_region.write_text("[default]\nregion = eu-north-1\n[profile ops]\nregion = ap-southeast-2\n")
    assert region_for(default_region="eu-west-1") == "eu-north-1"
    monkeypatch.setenv("AWS_PROFILE", "ops")
    assert region_for(default_region="eu-west-1") == "ap-southeast-2"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    assert region_for() == "eu-central-1"
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    assert region_for() == "us-west-2"
    assert region_for(region="sa-east-1") == "sa-east-1"


def test_a_profile_that_does_not_exist_names_no_region(
    no_region: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nobody")
    assert region_for(default_region="eu-west-1") == "eu-west-1"


def test_the_stacks_are_built_in_the_resolved_region(synth: Synth) -> None:
    """build() gives every stack the region region() resolves (here, from this process's environment)."""
    import json

    context = json.loads((REPO / "cdk.json").read_text())["context"]
    manifest = json.loads((synth.outdir / "manifest.json").read_text())
    for stage in synth.all():
        environment = manifest["artifacts"][f"payments-{stage.name}"]["environment"]
        assert environment.rsplit("/", 1)[1] == region(App(context=context).node)
