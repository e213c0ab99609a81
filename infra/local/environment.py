"""What a function sees locally: the catalog's environment, fake AWS credentials aimed at moto, and the
Stripe base address. Nothing from the developer's own shell or ~/.aws leaks in."""

from __future__ import annotations

import os
from typing import Any

from infra import catalog
from infra.local import resources
from infra.local.settings import ROOT

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account, which the local stack's ARNs name
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # Never the developer's real profiles or credentials.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
CORE_PATH = ROOT / "layers" / "core" / "python"


def python_path() -> str:
    """The repository (for `functions.<name>.app`) and the core layer (for `payments`), as in Lambda."""
    return os.pathsep.join([str(ROOT), str(CORE_PATH)])


def base_environment() -> dict[str, str]:
    """A clean process environment: no proxies, no AWS profile, UTC like Lambda."""
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "PYTHONPATH": python_path(),
        "PYTHONUNBUFFERED": "1",
        **FAKE_AWS,
    }


def endpoint_variables(moto_url: str, dynamodb_url: str) -> dict[str, str]:
    """Where botocore sends each service's requests locally: DynamoDB to its own moto (botocore's
    per-service endpoint variable), every other service to the shared one."""
    return {"AWS_ENDPOINT_URL": moto_url, "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_url}


def function_environment(
    fn: catalog.Function,
    *,
    moto_url: str,
    dynamodb_url: str,
    stripe_api_base: str | None,
    log_level: str = "INFO",
) -> dict[str, str]:
    env = {
        **base_environment(),
        **endpoint_variables(moto_url, dynamodb_url),
        "AWS_LAMBDA_FUNCTION_NAME": fn.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "STAGE": "local",
        "POWERTOOLS_LOG_LEVEL": log_level,
        "POWERTOOLS_TRACE_DISABLED": "true",
        # Metrics would print an EMF blob per request; the local log stays readable without them.
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
        **resources.function_environment(fn),
    }
    if stripe_api_base:
        env["STRIPE_API_BASE"] = stripe_api_base
    return env


def aws_client(service: str, moto_url: str, connections: int = 10) -> Any:
    """A boto3 client on the local moto server, with explicit fake credentials; `connections`: how many
    threads may use it at once without waiting (botocore's pool, 10 by default)."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=FAKE_AWS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_AWS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    return session.client(service, endpoint_url=moto_url, config=Config(max_pool_connections=connections))
