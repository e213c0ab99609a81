"""A payment's PaymentIntent at Stripe, made safe to record: the rules every path shares (the request,
the payment_status subscriber, cancel and the janitor).

1. Failed means nothing can charge any more. After a failed attempt (a decline, 3-D Secure failed) the
   intent is still confirmable with another card, and its client_secret is at the frontend, so it is
   canceled at Stripe before we record `failed`. Had it been confirmed again meanwhile, what it is
   now is applied instead. The one open attempt that is not a failure: an off-session payment that
   Stripe declined `authentication_required` waits (requires_action) for the customer to confirm it.
2. A pending payment is found by our id. Stripe forgets idempotency keys after about a day, so a
   resumed request first looks for an intent whose metadata names the payment and adopts it; only when
   none exists does it create one (same key: a replay while Stripe remembers).
3. What Stripe never saw is released, never guessed: the payment's create key is taken at Stripe with
   an unconfirmed intent (the fence), which is then canceled. Had the original request reached Stripe,
   Stripe refuses the fence and the payment is left for a later look.
4. Money our books do not hold is never ignored: an intent naming one of our payments that holds money
   while the payment has another intent, or failed or was canceled, is recorded on the payment,
   counted (an alarm watches `StrayCharges`) and, by policy, given back.
"""

from __future__ import annotations

import dataclasses
import logging

from payments.application.clock import now
from payments.application.commit import Store
from payments.application.ports import PaymentGateway
from payments.domain.errors import IntentStateChanged
from payments.domain.payment import (
    RELEASES_ORDER,
    Change,
    Failure,
    IntentSnapshot,
    Payment,
    PaymentStatus,
    can_move,
)

logger = logging.getLogger(__name__)

# A frontend that keeps confirming with new cards while we close the attempt: give up after a few
# rounds and leave the intent to its next event (the payment stays open, nothing is recorded wrongly).
MAX_CLOSE_ROUNDS = 3
NEVER_REACHED_STRIPE = Failure("not_submitted", "the payment never reached the payment provider")


def close_failed_attempt(payment: Payment, intent: IntentSnapshot, gateway: PaymentGateway) -> IntentSnapshot:
    """The intent to record: a failed, still open attempt canceled at Stripe first (rule 1)."""
    for round_ in range(MAX_CLOSE_ROUNDS):
        if not intent.attempt_failed or not can_move(payment.status, PaymentStatus.FAILED):
            return intent
        if payment.awaits_customer(intent):
            return intent  # an off-session decline the customer can still authenticate: left open
        try:
            closed = gateway.cancel_intent(payment, intent.id, reason="abandoned", round_=round_)
        except IntentStateChanged:
            intent = gateway.retrieve_intent(intent.id)  # confirmed again meanwhile: see what it is now
            continue
        failure = closed.failure or intent.failure or Failure("payment_failed", "The payment failed")
        return dataclasses.replace(closed, failure=failure)
    return intent


def record_intent(store: Store, payment: Payment, intent: IntentSnapshot, gateway: PaymentGateway) -> Payment:
    """Apply what Stripe says of the payment's own intent (rule 1), or record a stray one (rule 4)."""
    if is_stray(payment, intent):
        return record_stray(store, payment, intent, gateway)
    if not is_own(payment, intent):
        # Another intent naming the payment that holds no money: nothing of ours to move.
        logger.warning("intent %s names payment %s, which has another intent", intent.id, payment.id)
        return payment
    final = close_failed_attempt(payment, intent, gateway)
    decisions: list[tuple[Payment, Change | None]] = []

    def decide(current: Payment) -> Change | None:
        decisions.append((current, _apply(current, final)))
        return decisions[-1][1]

    after = store.update(payment.id, decide, known=payment)
    _count_radar_block(*decisions[-1])  # the last decision is the one committed
    _count_hold(decisions[-1][1])
    return after


def _apply(payment: Payment, intent: IntentSnapshot) -> Change | None:
    if is_stray(payment, intent) or not is_own(payment, intent):
        return None  # decided on a fresh read: the caller's next event (or the janitor) records it
    at = now()
    return (
        payment.apply_intent(intent, at) or payment.record_fee(intent, at) or payment.record_radar(intent, at)
    )


def _count_radar_block(before: Payment, change: Change | None) -> None:
    """`RadarBlocked` once per payment: when the change records that Radar blocked its charge."""
    from payments.observability import count

    radar = change.payment.risk.radar if change and change.payment.risk else None
    if radar is None or radar.outcome_type != "blocked":
        return
    if before.risk is None or before.risk.radar != radar:
        count("RadarBlocked")


def _count_hold(change: Change | None) -> None:
    """`RiskHeld` once per payment: when Stripe's authorization opens our review hold."""
    from payments.observability import count

    if change is not None and change.event.event_type == "PaymentHeldForReview":
        count("RiskHeld")


def is_own(payment: Payment, intent: IntentSnapshot) -> bool:
    """The payment's intent, or the first one Stripe reports for a payment that has none yet."""
    return payment.stripe_payment_intent_id in (None, intent.id)


def is_stray(payment: Payment, intent: IntentSnapshot) -> bool:
    if not intent.holds_money or intent.id in payment.stray_intents:
        return False
    return not is_own(payment, intent) or payment.status in RELEASES_ORDER


def record_stray(store: Store, payment: Payment, intent: IntentSnapshot, gateway: PaymentGateway) -> Payment:
    from payments.config import settings
    from payments.observability import count

    intent = gateway.retrieve_intent(intent.id)  # money moves only on Stripe's own word, as of now
    count("StrayCharges")
    logger.error(
        "intent %s (%s) names payment %s, which our books do not hold it for",
        intent.id,
        intent.status,
        payment.id,
    )
    action = "recorded"
    if settings().stray_charge_policy == "give_back":
        if intent.status == "processing":
            return payment  # nothing to give back yet: its success (or failure) is the next news
        if intent.status == "requires_capture":
            gateway.cancel_intent(payment, intent.id, reason="duplicate")
            action = "authorization_canceled"
        elif intent.status == "succeeded":
            gateway.refund_intent(payment, intent.id)
            action = "refunded"
    logger.error("stray intent %s: %s", intent.id, action)
    return store.update(
        payment.id, lambda current: current.record_stray(intent.id, action, now()), known=payment
    )


def adopt(store: Store, payment: Payment, found: list[IntentSnapshot], gateway: PaymentGateway) -> Payment:
    """The oldest intent naming the payment is its own; any other that holds money is stray."""
    own, *others = found
    payment = record_intent(store, payment, own, gateway)
    for other in others:
        if is_stray(payment, other):
            payment = record_stray(store, payment, other, gateway)
    return payment


def release_if_never_seen(store: Store, payment: Payment, gateway: PaymentGateway) -> Payment | None:
    """Settle a pending payment from Stripe's state (rule 3): adopt what exists, release what Stripe
    never saw. None when Stripe's answer does not tell yet (the create key is still in use there)."""
    found = gateway.find_intents(payment)
    if found:
        return adopt(store, payment, found, gateway)
    fence = gateway.fence_intent(payment)
    if fence is None:
        return None
    closed = gateway.cancel_intent(payment, fence.id, reason="abandoned")
    never = dataclasses.replace(closed, failure=None)
    return store.update(
        payment.id,
        lambda current: current.release(never, NEVER_REACHED_STRIPE, now()),
        known=payment,
    )
