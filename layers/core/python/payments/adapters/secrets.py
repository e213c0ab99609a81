"""Secrets from Secrets Manager through Powertools parameters, cached for settings().secrets_max_age_seconds.

Values are never logged. Locally the same code reads the local stack's Secrets Manager (moto).
"""

from __future__ import annotations

import json
from typing import Any

from payments.adapters.aws import client
from payments.config import settings


def secret_string(name: str) -> str:

    provider = _provider()
    value = provider.get(name, max_age=settings().secrets_max_age_seconds)
    if not isinstance(value, str) or not value:
        raise RuntimeError(f"secret {name} is empty; ops must set it (see README, Deploy)")
    return value


def secret_json(name: str) -> dict[str, Any]:
    value = json.loads(secret_string(name))
    if not isinstance(value, dict):
        raise RuntimeError(f"secret {name} must hold a JSON object")
    return value


_PROVIDER: Any = None


def _provider() -> Any:
    global _PROVIDER  # noqa: PLW0603 - one provider (and cache) per warm function
    if _PROVIDER is None:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        _PROVIDER = SecretsProvider(boto3_client=client("secretsmanager"))
    return _PROVIDER


def reset() -> None:
    global _PROVIDER  # noqa: PLW0603
    _PROVIDER = None
