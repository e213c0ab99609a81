"""The janitor: settle what a request left in flight from Stripe's state (scheduled).

A payment still `pending`, or a refund still waiting for Stripe's answer, past a threshold means the
request that started it ended without an answer (Stripe or we were unreachable, the client gave up).
Each is settled as its own request would have been, had it been retried:
- a payment: the intent that names it is adopted; one Stripe never saw is released (fenced at Stripe,
  then canceled: its order is free again);
- a refund: the Stripe refund that names it is recorded, or it is asked of Stripe now with its own
  key (the admin asked for it; a reservation is never silently dropped).
What cannot be settled yet (Stripe still holds the create key, Stripe or DynamoDB fail) is counted in
`JanitorUnsettled`, which an alarm watches, and tried again on the next run.

A pending payment our checks blocked never reached Stripe: it is recorded blocked, never fenced. And
the review holds (docs/risk.md, Review holds): a payment held longer than the rules' review_hold_hours
is expired and its authorization canceled, found on the sparse holds index (no scan).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from payments.application.clock import seconds_ago
from payments.application.commit import Store
from payments.application.manage_payment import expire_hold
from payments.application.payment_intents import release_if_never_seen
from payments.application.ports import PaymentGateway, RefundGateway, RefundRepository
from payments.application.process_payment import block, is_blocked
from payments.application.refund_payment import ask_stripe
from payments.domain.errors import PaymentsError
from payments.domain.payment import PaymentStatus

logger = logging.getLogger(__name__)
BATCH = 50


@dataclass(frozen=True)
class JanitorReport:
    payments_settled: int
    refunds_settled: int
    unsettled: int
    holds_expired: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "payments_settled": self.payments_settled,
            "refunds_settled": self.refunds_settled,
            "holds_expired": self.holds_expired,
            "unsettled": self.unsettled,
        }


class Gateway(PaymentGateway, RefundGateway, Protocol):
    """The janitor asks Stripe about both intents and refunds."""


def settle_stale(
    store: Store,
    refunds: RefundRepository,
    gateway: Gateway,
    min_age_seconds: float,
    hold_hours: int | None = None,
) -> JanitorReport:
    """Settle what waited for Stripe; with `hold_hours` (the rules' review_hold_hours), expire holds."""
    before = seconds_ago(min_age_seconds)
    payments_settled = refunds_settled = unsettled = 0
    for payment in store.payments.stale(PaymentStatus.PENDING, before, BATCH):
        try:
            settled = (
                block(payment, store)
                if is_blocked(payment)
                else release_if_never_seen(store, payment, gateway)
            )
        except PaymentsError:
            logger.warning("payment %s: could not ask Stripe", payment.id, exc_info=True)
            settled = None
        if settled is None or settled.status is PaymentStatus.PENDING:
            unsettled += 1
        else:
            payments_settled += 1
    for refund in refunds.awaiting_stripe(before, BATCH):
        owner, current = refunds.with_payment(refund.payment_id, refund.id)
        if owner is None or current is None or not current.awaiting_stripe:
            continue  # settled meanwhile
        try:
            ask_stripe(owner, current, store, refunds, gateway, resumed=True)
        except PaymentsError:
            logger.warning("refund %s: could not settle", refund.id, exc_info=True)
            unsettled += 1
        else:
            refunds_settled += 1
    expired, holds_unsettled = expire_holds(store, gateway, hold_hours) if hold_hours else (0, 0)
    return JanitorReport(payments_settled, refunds_settled, unsettled + holds_unsettled, expired)


def expire_holds(store: Store, gateway: PaymentGateway, hold_hours: int) -> tuple[int, int]:
    """Cancel the payments held for review longer than `hold_hours`: (expired, unsettled)."""
    expired = unsettled = 0
    for payment in store.payments.held_for_review(seconds_ago(hold_hours * 3600), BATCH):
        try:
            after = expire_hold(payment, store, gateway)
        except PaymentsError:
            logger.warning("payment %s: could not expire its hold", payment.id, exc_info=True)
            unsettled += 1
            continue
        if after.status is PaymentStatus.CANCELED:
            expired += 1
        elif after.status is PaymentStatus.REQUIRES_CAPTURE and after.hold_opened_at is not None:
            unsettled += 1  # still to release: tried again next run
    return expired, unsettled
