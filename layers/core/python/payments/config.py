"""Settings from the environment, validated once and read lazily (module import stays cheap)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """Names of the resources a function uses. A function gets only the variables it needs (see
    infra/catalog.py), so every field is optional here and `require` fails loudly when one is missing."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    stage: str = Field("local", alias="STAGE")
    payments_table: str | None = Field(None, alias="PAYMENTS_TABLE")
    payment_methods_table: str | None = Field(None, alias="PAYMENT_METHODS_TABLE")
    ledger_table: str | None = Field(None, alias="LEDGER_TABLE")
    idempotency_table: str | None = Field(None, alias="IDEMPOTENCY_TABLE")
    reconciliation_table: str | None = Field(None, alias="RECONCILIATION_TABLE")
    risk_table: str | None = Field(None, alias="RISK_TABLE")
    # The risk rules are read again after this long in a warm function: a change applies within it.
    risk_rules_cache_seconds: float = Field(30.0, alias="RISK_RULES_CACHE_SECONDS", ge=0, le=300)
    # The currencies a reconciliation run reads from the ledger besides those Stripe's transactions name.
    reconciliation_currencies: str = Field("usd", alias="RECONCILIATION_CURRENCIES")
    event_bus_name: str | None = Field(None, alias="EVENT_BUS_NAME")
    stripe_api_key_secret: str | None = Field(None, alias="STRIPE_API_KEY_SECRET")
    stripe_webhook_secret_name: str | None = Field(None, alias="STRIPE_WEBHOOK_SECRET_NAME")
    cursor_key_secret: str | None = Field(None, alias="CURSOR_KEY_SECRET")
    # Order tokens: the secret with the Order Service's public keys, and the `iss` its tokens carry.
    order_token_keys_secret: str | None = Field(None, alias="ORDER_TOKEN_KEYS_SECRET")
    order_token_issuer: str | None = Field(None, alias="ORDER_TOKEN_ISSUER")
    # Who is an admin, and the routes only admins may call ("POST /payments/{payment_id}/capture,..."):
    # both from the catalog's route flags.
    admin_group: str | None = Field(None, alias="ADMIN_GROUP")
    admin_routes: str | None = Field(None, alias="ADMIN_ROUTES")
    # The scope of service callers' access tokens (Cognito client credentials), from the catalog.
    service_scope: str | None = Field(None, alias="SERVICE_SCOPE")
    # The Stripe event types a subscriber handles: what the webhook forwards.
    stripe_event_types: str | None = Field(None, alias="STRIPE_EVENT_TYPES")
    # Where the Stripe SDK sends requests: unset means api.stripe.com; the local stack sets the emulator.
    stripe_api_base: str | None = Field(None, alias="STRIPE_API_BASE")
    stripe_max_network_retries: int = Field(2, alias="STRIPE_MAX_NETWORK_RETRIES", ge=0, le=5)
    stripe_timeout_seconds: float = Field(20.0, alias="STRIPE_TIMEOUT_SECONDS", gt=0)
    # Secrets are cached this long in the warm function (rotation takes effect within it).
    secrets_max_age_seconds: int = Field(300, alias="SECRETS_MAX_AGE_SECONDS", ge=0)
    idempotency_ttl_seconds: int = Field(24 * 3600, alias="IDEMPOTENCY_TTL_SECONDS", ge=24 * 3600)
    # The relay leaves fresh events to the request that wrote them, to avoid needless duplicates.
    outbox_min_age_seconds: int = Field(30, alias="OUTBOX_MIN_AGE_SECONDS", ge=0)
    # A Stripe intent naming one of our payments that holds money our books do not: give it back
    # (cancel the authorization, refund the charge) or only record and alarm.
    stray_charge_policy: Literal["give_back", "record"] = Field("give_back", alias="STRAY_CHARGE_POLICY")
    # The janitor settles payments and refunds left pending at least this long.
    janitor_min_age_seconds: int = Field(600, alias="JANITOR_MIN_AGE_SECONDS", ge=0)

    def items_of(self, field: str) -> frozenset[str]:
        """A required comma-separated setting as a set (fails closed, like `require`)."""
        return frozenset(item.strip() for item in self.require(field).split(",") if item.strip())

    def require(self, field: str) -> str:
        value = getattr(self, field)
        if not value:
            alias = type(self).model_fields[field].alias
            raise RuntimeError(f"{alias} is not set for this function (see infra/catalog.py)")
        return str(value)


@lru_cache(maxsize=1)
def settings() -> Settings:
    names = {f.alias for f in Settings.model_fields.values() if f.alias}
    return Settings.model_validate({k: v for k, v in os.environ.items() if k in names})
