"""Lambda SnapStart: prime before the snapshot, renew what must not be shared after each restore.

With SnapStart (see infra/catalog.py, `snapstart=True`) Lambda runs the init phase once per published
version and snapshots the memory; cold starts then restore that snapshot. So the expensive, per-container
work is done here, before the snapshot, instead of on a customer's first request:

- import what the first request would import lazily (boto3, the Powertools utilities, Stripe's SDK,
  the X-Ray tracer) and build the AWS clients. No request is sent: no connection is open in the snapshot;
- never a secret: secrets are read on first use after restore, so a rotation is seen and no secret
  value sits in a snapshot.

After restore, the random generator is reseeded (every restored container would otherwise draw the same
jitter). The `secrets` module and uuid4 read the OS's entropy and need nothing.

Outside SnapStart (on-demand Lambda, the local stack, tests) the runtime module is absent and `prime`
registers nothing, so nothing changes.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Callable
from typing import Any

from payments.config import settings
from payments.observability import Traced

# What our Stripe calls return, expanded objects included (adapters/stripe/gateway.py).
STRIPE_OBJECTS = ("payment_intent", "charge", "balance_transaction", "refund", "customer", "payment_method")


def entry_point(handler: Callable[[dict[str, Any], Any], Any]) -> Callable[[dict[str, Any], Any], Any]:
    """The function's entry point: `handler` traced, and primed before a SnapStart snapshot."""
    traced = Traced(handler)
    prime(extra=traced.set_up)
    return traced


def prime(extra: Callable[[], Any] | None = None) -> bool:
    """Register the hooks if this runtime snapshots; True when it does."""
    try:
        from snapshot_restore_py import (  # type: ignore[import-not-found]
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:
        return False

    def before_snapshot() -> None:
        warm_up()
        if extra is not None:
            extra()
        # Everything loaded so far lives as long as the container: keep the collector from walking it
        # again on a customer's request (a full collection of it costs ~150 ms).
        gc.collect()
        gc.freeze()

    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    return True


def warm_up() -> None:
    """Everything the first request of this function would load, judged from what it is wired to."""
    from payments.adapters.aws import client
    from payments.domain import events
    from payments.domain.risk_rules import StrictModel

    config = settings()
    # The models' validators, which on-demand functions build on first use (payments.domain.events).
    events.build_models()
    events.build_models(StrictModel)
    if any(
        (
            config.payments_table,
            config.payment_methods_table,
            config.ledger_table,
            config.idempotency_table,
            config.reconciliation_table,
        )
    ):
        client("dynamodb")
    if config.event_bus_name:
        client("events")
    if config.stripe_api_key_secret or config.stripe_webhook_secret_name or config.cursor_key_secret:
        client("secretsmanager")
        from aws_lambda_powertools.utilities.parameters import SecretsProvider  # noqa: F401
    if config.idempotency_table:
        from aws_lambda_powertools.utilities.idempotency import idempotent_function  # noqa: F401
    if config.stripe_api_key_secret:
        import platform

        import stripe

        # A throwaway client with a placeholder key loads the SDK's modules; it never sends a request
        # (and the real key is read after restore). The SDK imports an object's class when a response
        # first holds one (~20 ms for a PaymentIntent with its charge): load the ones our calls get back.
        placeholder = stripe.StripeClient("sk_test_priming_placeholder")
        for service in ("payment_intents", "refunds", "customers", "payment_methods"):
            getattr(placeholder.v1, service)
        for kind in STRIPE_OBJECTS:
            placeholder.deserialize({"object": kind, "id": f"{kind}_priming"}, api_mode="V1")
        # Its user-agent header names the platform, which Python learns by running `uname -p` once.
        platform.platform()
    if config.stripe_webhook_secret_name:
        import payments.application.webhook  # noqa: F401
    if config.order_token_keys_secret:
        # joserfc and cryptography's compiled bindings, loaded once here rather than on a request.
        from payments.adapters import order_tokens  # noqa: F401
    if config.risk_table:
        # The checks before Stripe and the risk table's adapters, which the first payment would load.
        from payments.adapters.dynamodb import payment_start, risk, velocity  # noqa: F401
        from payments.application import risk as checks  # noqa: F401


def after_restore() -> None:
    random.seed()
