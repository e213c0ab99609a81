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

    from payments.adapters.dynamodb.disputes import DynamoDisputes
    from payments.adapters.dynamodb.idempotency import IdempotentRunner
    from payments.adapters.dynamodb.ledger import DynamoLedger
    from payments.adapters.dynamodb.payment_methods import DynamoPaymentMethods
    from payments.adapters.dynamodb.payment_start import DynamoPaymentStart
    from payments.adapters.dynamodb.payments import DynamoPaymentRepository
    from payments.adapters.dynamodb.payouts import DynamoPayouts
    from payments.adapters.dynamodb.reconciliation import DynamoReconciliationRuns
    from payments.adapters.dynamodb.refunds import DynamoRefunds
    from payments.adapters.dynamodb.risk import DynamoRiskAdmin, DynamoRiskPolicy
    from payments.adapters.dynamodb.velocity import DynamoVelocity
    from payments.adapters.eventbridge.publisher import EventBridgePublisher
    from payments.adapters.order_tokens import JoseOrderTokens
    from payments.adapters.risk_hook import LambdaRiskHook
    from payments.adapters.stripe.balance import StripeBalanceReader
    from payments.adapters.stripe.disputes import StripeDisputes
    from payments.adapters.stripe.gateway import StripeGateway
    from payments.adapters.stripe.radar import StripeRadar
    from payments.adapters.stripe.webhooks import StripeEvents
    from payments.application.commit import Store
    from payments.application.reconciliation import Reconciler
    from payments.application.risk import RiskChecks
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
def refunds() -> DynamoRefunds:
    from payments.adapters.dynamodb.refunds import DynamoRefunds

    return DynamoRefunds(settings().require("payments_table"))


@cache
def payment_methods() -> DynamoPaymentMethods:
    from payments.adapters.dynamodb.payment_methods import DynamoPaymentMethods

    return DynamoPaymentMethods(settings().require("payment_methods_table"))


@cache
def dispute_records() -> DynamoDisputes:
    """The admins' read model of disputes (DISPUTE# records in the payments table)."""
    from payments.adapters.dynamodb.disputes import DynamoDisputes

    return DynamoDisputes(settings().require("payments_table"))


@cache
def stripe_disputes() -> StripeDisputes:
    from payments.adapters.stripe.disputes import StripeDisputes

    return StripeDisputes(stripe_client)


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


@cache
def order_tokens() -> JoseOrderTokens:
    """Order tokens, checked against the Order Service's public keys (Secrets Manager, cached there)."""
    from payments.adapters.order_tokens import JoseOrderTokens

    config = settings()
    name = config.require("order_token_keys_secret")
    return JoseOrderTokens(lambda: secrets.secret_string(name), config.require("order_token_issuer"))


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
            # The emulator serves Stripe's file uploads (files.stripe.com) at the same address.
            options["base_addresses"] = {"api": config.stripe_api_base, "files": config.stripe_api_base}
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
def radar() -> StripeRadar:
    """Stripe Radar's reviews and early fraud warnings, read from Stripe."""
    from payments.adapters.stripe.radar import StripeRadar

    return StripeRadar(stripe_client)


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


@cache
def risk_policy() -> DynamoRiskPolicy:
    """The rules and blocklist the pre-authorization checks read (the rules cached while warm)."""
    from payments.adapters.dynamodb.risk import DynamoRiskPolicy

    config = settings()
    return DynamoRiskPolicy(config.require("risk_table"), config.risk_rules_cache_seconds)


@cache
def risk_admin() -> DynamoRiskAdmin:
    """The admin API's store of the rules, the blocklist and their audit (never cached)."""
    from payments.adapters.dynamodb.risk import DynamoRiskAdmin

    return DynamoRiskAdmin(settings().require("risk_table"))


@cache
def risk_hook() -> LambdaRiskHook:
    """The external risk hook the rules may name (a Lambda function)."""
    from payments.adapters.risk_hook import LambdaRiskHook

    return LambdaRiskHook()


@cache
def velocity() -> DynamoVelocity:
    """The pre-authorization checks' counters (VELOCITY# items in the risk table)."""
    from payments.adapters.dynamodb.velocity import DynamoVelocity

    return DynamoVelocity(settings().require("risk_table"))


@cache
def risk_checks() -> RiskChecks:
    """The checks before Stripe (and the decline counts the subscribers record)."""
    from payments.application.risk import RiskChecks

    return RiskChecks(risk_policy(), velocity(), gateway(), risk_hook())


@cache
def payment_start() -> DynamoPaymentStart:
    """What a payment request reads first: an earlier attempt and the payment method's records."""
    from payments.adapters.dynamodb.payment_start import DynamoPaymentStart

    config = settings()
    return DynamoPaymentStart(config.require("payments_table"), config.require("payment_methods_table"))


def reset() -> None:
    """Forget every cached client, adapter and setting (tests change the environment between cases)."""
    for cached in (
        store,
        payments_reader,
        dispute_records,
        stripe_disputes,
        refunds,
        payment_methods,
        publisher,
        gateway,
        api_requests,
        order_tokens,
        webhook_receiver,
        stripe_events,
        radar,
        payouts,
        ledger,
        reconciliation_runs,
        stripe_balance,
        reconciler,
        risk_policy,
        risk_admin,
        risk_hook,
        velocity,
        risk_checks,
        payment_start,
        settings,
    ):
        cached.cache_clear()
    _stripe_clients.clear()
    aws.reset()
    secrets.reset()
