"""The payment_status subscriber's use case: Stripe's payment_intent.* and charge.updated news -> the
payment's status (and Radar's outcome on its charge, when the payment has none yet).

`payment_intent.*` events go through the gateway's `snapshot_of` (the mapping Stripe's synchronous
answers use) and `payment_intents.record_intent`, the same
path as Stripe's synchronous answers, so the two agree and late or repeated news cannot move a payment
back; an intent that names a payment but is not its own is recorded as stray, never dropped.
Mapping back: our `payment_id` is in the PaymentIntent's metadata. An intent without one was not made
by this service (ignored, counted); a payment id we do not hold (yet) raises, so EventBridge retries
the event and finally parks it in the rule's DLQ: never dropped.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from payments.application.commit import Store
from payments.application.payment_intents import record_intent
from payments.application.ports import PaymentGateway, PreAuthorization, StripeEventSource
from payments.application.stripe_event import StripeEvent, full_object
from payments.domain.errors import NotFound

logger = logging.getLogger(__name__)


class PaymentStatusOutcome(StrEnum):
    """What a payment_intent event did; the value is the metric counted."""

    CHANGED = "PaymentStatusChanged"
    UNCHANGED = "PaymentStatusUnchanged"  # a repeat, a late arrival, or news we already had
    NOT_OURS = "StripeEventsNotOurs"


def apply_payment_intent_event(
    event: StripeEvent,
    store: Store,
    gateway: PaymentGateway,
    source: StripeEventSource,
    declines: PreAuthorization | None = None,
) -> PaymentStatusOutcome:
    obj = full_object(event, source)
    payment_id = (obj.get("metadata") or {}).get("payment_id")
    if not payment_id:
        logger.info("%s %s: not a payment of this service; ignored", event.type, event.id)
        return PaymentStatusOutcome.NOT_OURS
    payment = store.payments.get(payment_id)
    if payment is None:
        raise NotFound(f"payment {payment_id} is not known (yet); the event will be retried")
    radar_unknown = payment.risk is None or payment.risk.radar is None
    if obj.get("object") == "charge":
        # charge.updated: its balance transaction (Stripe's fee), or Radar's outcome we lack, may have
        # arrived; the intent has both.
        if not obj.get("payment_intent") or not (obj.get("balance_transaction") or radar_unknown):
            return PaymentStatusOutcome.UNCHANGED
        snapshot = gateway.retrieve_intent(str(obj["payment_intent"]))
    else:
        snapshot = gateway.snapshot_of(obj)
    fee_unknown = snapshot.status == "succeeded" and snapshot.fee is None and payment.stripe_fee is None
    radar_missing = radar_unknown and snapshot.charge_id is not None and snapshot.radar is None
    if snapshot.attempt_failed or fee_unknown or radar_missing:
        # Events come in any order and may be old: a cancel is decided on Stripe's state now, and
        # webhooks name the charge by id only while the ledger needs Stripe's fee and the payment
        # Radar's outcome on it.
        snapshot = gateway.retrieve_intent(snapshot.id)
    after = record_intent(store, payment, snapshot, gateway)
    if declines is not None:
        # An asynchronous decline counts for the risk checks' velocity: once per payment, however
        # often Stripe tells of it (a failure to count fails the event, which is retried).
        declines.record_decline(after)
    changed = after.version != payment.version
    return PaymentStatusOutcome.CHANGED if changed else PaymentStatusOutcome.UNCHANGED
