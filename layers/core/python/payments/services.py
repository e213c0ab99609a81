"""Composition root: the real adapters, built on first use and kept while the function is warm.

Handlers and subscribers ask here; tests call `reset()` between cases. Nothing is built at import:
the adapters' modules are imported inside each factory (a function imports only what it uses), and
only for the type checker up here.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from payments.adapters import aws, secrets
from payments.config import settings

if TYPE_CHECKING:
    import stripe

    from payments.adapters.dynamodb.idempotency import IdempotentRunner
    from payments.adapters.dynamodb.ledger import DynamoLedger
    from payments.adapters.dynamodb.payment_methods import DynamoPaymentMethodOwners, DynamoPaymentMethods
    from payments.adapters.dynamodb.payments import DynamoPaymentRepository
    from payments.adapters.dynamodb.payouts import DynamoPayouts
    from payments.adapters.dynamodb.reconciliation import DynamoReconciliationRuns
    from payments.adapters.dynamodb.refunds import DynamoRefunds
    from payments.adapters.eventbridge.publisher import EventBridgePublisher
    from payments.adapters.stripe.balance import StripeBalanceReader
    from payments.adapters.stripe.gateway import StripeGateway
    from payments.adapters.stripe.webhooks import StripeEvents
    from payments.application.commit import Store
    from payments.application.reconciliation import Reconciler
    from payments.application.webhook import WebhookReceiver

# Stripe retries a webhook for 3 days; remembering its event ids a day longer covers its last retry.
WEBHOOK_DEDUPE_SECONDS = 4 * 24 * 3600


@cache
def store() -> Store:
    from payments.application.commit import Store

    return Store(payments=payments_reader(), publisher=publisher())


@cache
def payments_reader() -> DynamoPaymentRepository:
    """The payments table alone, for query functions (no bus needed)."""
    from payments.adapters.dynamodb.payments import DynamoPaymentRepository

    return DynamoPaymentRepository(settings().require("payments_table"))


@cache
def method_owners() -> DynamoPaymentMethodOwners:
    from payments.adapters.dynamodb.payment_methods import DynamoPaymentMethodOwners

    return DynamoPaymentMethodOwners(settings().require("payment_methods_table"))


@cache
def refunds() -> DynamoRefunds:
    from payments.adapters.dynamodb.refunds import DynamoRefunds

    return DynamoRefunds(settings().require("payments_table"))


@cache
def payment_methods() -> DynamoPaymentMethods:
    from payments.adapters.dynamodb.payment_methods import DynamoPaymentMethods

    return DynamoPaymentMethods(settings().require("payment_methods_table"))


@cache
def publisher() -> EventBridgePublisher:
    from payments.adapters.eventbridge.publisher import EventBridgePublisher

    return EventBridgePublisher(settings().require("event_bus_name"))


@cache
def gateway() -> StripeGateway:
    from payments.adapters.stripe.gateway import StripeGateway

    return StripeGateway(stripe_client)


@cache
def api_requests() -> IdempotentRunner:
    """The API's Idempotency-Key records: one per caller and key, bound to operation, resource, body."""
    from payments.adapters.dynamodb.idempotency import IdempotentRunner

    return IdempotentRunner(
        settings().require("idempotency_table"),
        # Every operation shares one key space: a key names one request of its caller.
        key_prefix="api",
        key_path="[caller, key]",
        validation_path="[operation, resource, body]",
        expires_after_seconds=settings().idempotency_ttl_seconds,
        busy="a request with this Idempotency-Key is still running; retry shortly",
        reused=(
            "this Idempotency-Key was already used for another request (another operation, resource or "
            "body); send a new key for each request"
        ),
    )


def cursor_key() -> bytes:
    """The key that signs list cursors (Secrets Manager, cached and refreshed by the secrets adapter)."""
    return secrets.secret_string(settings().require("cursor_key_secret")).encode()


_stripe_clients: dict[str, stripe.StripeClient] = {}


def stripe_client() -> stripe.StripeClient:
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
def webhook_receiver() -> WebhookReceiver:
    from payments.adapters.dynamodb.idempotency import EventIdDedupe
    from payments.adapters.eventbridge.publisher import StripeEventForwarder
    from payments.adapters.stripe.webhooks import verify_signature
    from payments.application.webhook import WebhookReceiver

    config = settings()
    return WebhookReceiver(
        verify=verify_signature,
        secrets=webhook_secrets,
        forwarder=StripeEventForwarder(config.require("event_bus_name")),
        dedupe=EventIdDedupe(config.require("idempotency_table"), WEBHOOK_DEDUPE_SECONDS),
        forwarded=config.items_of("stripe_event_types"),
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
def stripe_events() -> StripeEvents:
    from payments.adapters.stripe.webhooks import StripeEvents

    return StripeEvents(stripe_client)


@cache
def payouts() -> DynamoPayouts:
    from payments.adapters.dynamodb.payouts import DynamoPayouts

    return DynamoPayouts(settings().require("ledger_table"))


@cache
def ledger() -> DynamoLedger:
    from payments.adapters.dynamodb.ledger import DynamoLedger

    return DynamoLedger(settings().require("ledger_table"))


@cache
def reconciliation_runs() -> DynamoReconciliationRuns:
    from payments.adapters.dynamodb.reconciliation import DynamoReconciliationRuns

    return DynamoReconciliationRuns(settings().require("reconciliation_table"))


@cache
def stripe_balance() -> StripeBalanceReader:
    from payments.adapters.stripe.balance import StripeBalanceReader

    return StripeBalanceReader(stripe_client)


@cache
def reconciler() -> Reconciler:
    """Reconciliation runs: Stripe's balance transactions against the ledger, stored and announced."""
    from payments.application.reconciliation import Reconciler

    return Reconciler(
        stripe=stripe_balance(),
        ledger=ledger(),
        runs=reconciliation_runs(),
        publisher=publisher(),
        currencies=reconciliation_currencies(),
    )


def reconciliation_currencies() -> frozenset[str]:
    """The currencies a run reads from the ledger besides those Stripe's transactions name."""
    return frozenset(code.lower() for code in settings().items_of("reconciliation_currencies"))


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
        api_requests,
        webhook_receiver,
        stripe_events,
        payouts,
        ledger,
        reconciliation_runs,
        stripe_balance,
        reconciler,
        settings,
    ):
        cached.cache_clear()
    _stripe_clients.clear()
    aws.reset()
    secrets.reset()
