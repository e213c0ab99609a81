"""Stage settings: built-in defaults per stage, overridden from CDK context.

Resolution, last wins:
1. the defaults below for the stage (`-c stage=dev|prod`, default `dev`);
2. `cdk.json` context `stages.<stage>.<setting>` (settings kept in the repository);
3. `-c <setting>=<value>` on the command line (one-off overrides; strings are coerced to the field's type).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, get_type_hints

from aws_cdk import aws_logs as logs
from constructs import Node

from infra import catalog
from infra.aws.naming import physical_name

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REGION = "eu-west-1"
# The retention periods CloudWatch Logs accepts, in days.
RETENTION_DAYS: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


@dataclass(frozen=True)
class StageConfig:
    stage: str
    # Data survives a stack deletion in prod; dev stacks clean up after themselves.
    retain_data: bool
    deletion_protection: bool
    log_retention_days: int
    log_level: str
    # API Gateway stage throttling (steady requests per second and burst): every method's default, for
    # all callers together.
    api_rate_limit: int
    api_burst_limit: int
    # Each route whose function calls Stripe with the API key (payments, refunds, captures, ...) is held
    # to this instead: Stripe limits the whole account (docs/deploy.md, Limits).
    stripe_route_rate_limit: int
    stripe_route_burst_limit: int
    # WAF rate-based rule: requests per client IP in any 5-minute window.
    waf_rate_limit: int
    archive_retention_days: int
    mfa_required: bool
    # Cognito Plus plan: threat protection (compromised credentials, adaptive authentication).
    cognito_plus: bool
    # Block the webhook path for anything but Stripe's published webhook addresses.
    stripe_ip_allowlist: bool
    # Alarm thresholds.
    alarm_api_5xx_per_5min: int
    alarm_function_errors_per_5min: int
    alarm_outbox_oldest_seconds: int
    alarm_webhook_signature_failures_per_5min: int
    # Optional: a custom domain (both needed), an existing Cognito user pool, an alarm e-mail.
    domain_name: str | None = None
    certificate_arn: str | None = None
    user_pool_id: str | None = None
    alarm_email: str | None = None
    stripe_webhook_ips: tuple[str, ...] = ()
    # The `iss` of the Order Service's order tokens (docs/risk.md, Amounts from the order).
    order_token_issuer: str = catalog.ORDER_TOKEN_ISSUER
    # Code roots, relative to the repository (tests point them elsewhere).
    functions_root: str = "functions"
    core_layer_root: str = "layers/core"
    deps_layer_root: str = "layers/deps"
    console_root: str = "web/console"  # the back-office console's static pages

    @property
    def is_prod(self) -> bool:
        return self.stage == "prod"

    @property
    def name_suffix(self) -> str:
        """Physical names carry the stage outside prod, so stages can share an account."""
        return physical_name("", self.stage)

    @property
    def log_retention(self) -> logs.RetentionDays:
        return RETENTION_DAYS[self.log_retention_days]

    def physical_name(self, base: str) -> str:
        return physical_name(base, self.stage)

    def path(self, relative: str) -> Path:
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else REPO_ROOT / candidate


_DEV = StageConfig(
    stage="dev",
    retain_data=False,
    deletion_protection=False,
    log_retention_days=14,
    log_level="DEBUG",
    api_rate_limit=50,
    api_burst_limit=100,
    # Stripe's sandbox allows 25 requests per second per account.
    stripe_route_rate_limit=10,
    stripe_route_burst_limit=20,
    waf_rate_limit=1000,
    archive_retention_days=7,
    mfa_required=False,
    cognito_plus=False,
    stripe_ip_allowlist=False,
    alarm_api_5xx_per_5min=10,
    alarm_function_errors_per_5min=5,
    alarm_outbox_oldest_seconds=900,
    alarm_webhook_signature_failures_per_5min=50,
)
_PROD = StageConfig(
    stage="prod",
    retain_data=True,
    deletion_protection=True,
    log_retention_days=365,
    log_level="INFO",
    api_rate_limit=500,
    api_burst_limit=1000,
    # Stripe's live mode allows 100 requests per second per account and 25 per endpoint (creating
    # PaymentIntents, refunds, ...) by default: raise both with Stripe's increase (docs/scaling.md).
    stripe_route_rate_limit=25,
    stripe_route_burst_limit=50,
    waf_rate_limit=2000,
    archive_retention_days=90,
    mfa_required=True,
    cognito_plus=True,
    stripe_ip_allowlist=True,
    alarm_api_5xx_per_5min=5,
    alarm_function_errors_per_5min=1,
    alarm_outbox_oldest_seconds=300,
    alarm_webhook_signature_failures_per_5min=10,
)
DEFAULTS: dict[str, StageConfig] = {c.stage: c for c in (_DEV, _PROD)}
_SETTINGS = tuple(f.name for f in fields(StageConfig) if f.name != "stage")


def _coerce(name: str, value: Any, hint: Any) -> Any:
    """Context from `-c key=value` arrives as a string; cdk.json values arrive typed."""
    text = hint if isinstance(hint, str) else str(hint)
    if value == "" and "None" in text:
        return None
    if "tuple" in text:
        items = value.split(",") if isinstance(value, str) else list(value)
        return tuple(str(i).strip() for i in items if str(i).strip())
    if hint is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1", "yes"):
            return True
        if str(value).lower() in ("false", "0", "no"):
            return False
        raise ValueError(f"context {name}: expected true/false, got {value!r}")
    if hint is int:
        return int(value)
    return str(value)


def resolve(node: Node) -> StageConfig:
    """The settings for the stage named by context `stage` (see the module docstring)."""
    stage = str(node.try_get_context("stage") or "dev")
    return resolve_stage(node, stage)


def resolve_stage(node: Node, stage: str) -> StageConfig:
    if stage not in DEFAULTS:
        raise ValueError(f"unknown stage {stage!r}; known: {', '.join(DEFAULTS)}")
    hints = get_type_hints(StageConfig)
    stages = node.try_get_context("stages") or {}
    # In cdk.json, null means "the stage's default" (settings listed there only to show they exist).
    overrides: dict[str, Any] = {k: v for k, v in (stages.get(stage) or {}).items() if v is not None}
    unknown = set(overrides) - set(_SETTINGS)
    if unknown:
        raise ValueError(f"cdk.json stages.{stage}: unknown settings {sorted(unknown)}")
    for name in _SETTINGS:
        value = node.try_get_context(name)
        if value is not None:
            overrides[name] = value
    coerced = {name: _coerce(name, value, hints[name]) for name, value in overrides.items()}
    config = replace(DEFAULTS[stage], **coerced)
    if config.log_retention_days not in RETENTION_DAYS:
        raise ValueError(f"log_retention_days must be one of {sorted(RETENTION_DAYS)}")
    if bool(config.domain_name) != bool(config.certificate_arn):
        raise ValueError("domain_name and certificate_arn go together (a regional ACM certificate)")
    return config


def region(node: Node) -> str:
    """The region to deploy to, first found (docs/deploy.md, Region):

    1. `-c region=<name>`;
    2. AWS_REGION, then AWS_DEFAULT_REGION;
    3. the region of the AWS profile (AWS_PROFILE, else `default`, in the AWS config file);
    4. `default_region` in cdk.json, else DEFAULT_REGION.

    CDK_DEFAULT_REGION is not read: the CLI sets it to us-east-1 when nothing names a region, which would
    hide the default. Nothing here calls AWS (synth needs no account or network)."""
    explicit = node.try_get_context("region")
    if explicit:
        return str(explicit)
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if os.environ.get(variable):
            return os.environ[variable]
    profile_region = _profile_region()
    if profile_region:
        return profile_region
    return str(node.try_get_context("default_region") or DEFAULT_REGION)


def _profile_region() -> str | None:
    """The `region` of the AWS profile, as the AWS CLI reads it (a file read; no instance metadata)."""
    import botocore.exceptions
    import botocore.session

    try:
        found = botocore.session.Session().get_scoped_config().get("region")
    except botocore.exceptions.ProfileNotFound:
        return None
    return str(found) if found else None
