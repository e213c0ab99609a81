"""Composition root: the real adapters, built on first use and kept while the function is warm.

Handlers and subscribers ask here; tests call `reset()` between cases. Nothing is built at import.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from payments.adapters import aws, secrets
from payments.config import settings


@cache
def store() -> Any:
    from payments.adapters.dynamodb.payments import DynamoPaymentRepository
    from payments.adapters.eventbridge.publisher import EventBridgePublisher
    from payments.application.commit import Store

    return Store(
        payments=DynamoPaymentRepository(settings().require("payments_table")),
        publisher=EventBridgePublisher(settings().require("event_bus_name")),
    )


@cache
def payments_reader() -> Any:
    """Read-only access for query functions (no bus needed)."""
    from payments.adapters.dynamodb.payments import DynamoPaymentRepository

    return DynamoPaymentRepository(settings().require("payments_table"))


@cache
def method_owners() -> Any:
    from payments.adapters.dynamodb.payment_methods import DynamoPaymentMethodOwners

    return DynamoPaymentMethodOwners(settings().require("payment_methods_table"))


@cache
def refunds() -> Any:
    from payments.adapters.dynamodb.refunds import DynamoRefunds

    return DynamoRefunds(settings().require("payments_table"))


@cache
def payment_methods() -> Any:
    from payments.adapters.dynamodb.payment_methods import DynamoPaymentMethods

    return DynamoPaymentMethods(settings().require("payment_methods_table"))


@cache
def publisher() -> Any:
    """The bus alone, for functions that publish without the payments table (payment methods)."""
    from payments.adapters.eventbridge.publisher import EventBridgePublisher

    return EventBridgePublisher(settings().require("event_bus_name"))


@cache
def gateway() -> Any:
    from payments.adapters.stripe.gateway import StripeGateway

    return StripeGateway(stripe_client)


_stripe_clients: dict[str, Any] = {}


def stripe_client() -> Any:
    """A StripeClient for the current API key (a rotated key gets a new client)."""
    api_key = secrets.secret_string(settings().require("stripe_api_key_secret"))
    if api_key not in _stripe_clients:
        import stripe

        config = settings()
        options: dict[str, Any] = {
            "max_network_retries": config.stripe_max_network_retries,
            "http_client": stripe.RequestsClient(timeout=config.stripe_timeout_seconds),
        }
        if config.stripe_api_base:
            options["base_addresses"] = {"api": config.stripe_api_base}
        _stripe_clients.clear()
        _stripe_clients[api_key] = stripe.StripeClient(api_key, **options)
    return _stripe_clients[api_key]


@cache
def webhook_receiver() -> Any:
    from payments.adapters.eventbridge.publisher import StripeEventForwarder
    from payments.adapters.stripe.webhooks import verify_signature
    from payments.application.webhook import DEDUPE_SECONDS, WebhookReceiver
    from payments.http.webhook import EventIdDedupe

    config = settings()
    return WebhookReceiver(
        verify=verify_signature,
        secrets=webhook_secrets,
        forwarder=StripeEventForwarder(config.require("event_bus_name")),
        dedupe=EventIdDedupe(config.require("idempotency_table"), DEDUPE_SECONDS),
        # The prod stage runs on Stripe's live mode, every other stage on its test mode.
        livemode=config.stage == "prod",
    )


def webhook_secrets() -> list[str]:
    """The signing secrets to accept: the current one, and the previous one while rotating."""
    name = settings().require("stripe_webhook_secret_name")
    values = secrets.secret_json(name)
    found = [str(values[key]) for key in ("current", "previous") if values.get(key)]
    if not found:
        # A 500, not a signature failure: Stripe keeps the events until ops set the secret.
        raise RuntimeError(f"secret {name} has no current webhook signing secret")
    return found


@cache
def stripe_events() -> Any:
    from payments.adapters.stripe.webhooks import StripeEvents

    return StripeEvents(stripe_client)


@cache
def ledger() -> Any:
    from payments.adapters.dynamodb.ledger import DynamoLedger

    return DynamoLedger(settings().require("ledger_table"))


def reset() -> None:
    """Forget every cached client, adapter and setting (tests change the environment between cases)."""
    for cached in (
        store,
        payments_reader,
        method_owners,
        refunds,
        payment_methods,
        publisher,
        gateway,
        webhook_receiver,
        stripe_events,
        ledger,
        settings,
    ):
        cached.cache_clear()
    _stripe_clients.clear()
    aws.reset()
    secrets.reset()
