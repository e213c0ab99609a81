"""Disputes (pure): what Stripe says about a payment's dispute, applied forward only.

A dispute's status only moves forward (inquiry -> chargeback -> under review -> closed) and its money
totals (withdrawn, fees, reinstated: Stripe's balance transactions) only grow. So news arriving late,
twice or out of order ends in the same state, and each event carries just the money it adds
(`dispute_movement`), which is what the ledger books.

Events: the first news of a dispute is `ChargebackReceived` (whatever its status, even when a
reordered delivery brings the closed dispute first); moving into a closed status is `DisputeClosed`;
any other change (status, reason, money) is `DisputeUpdated`.
"""

from __future__ import annotations

from dataclasses import dataclass

from payments.domain.events import DisputeMovementData, DomainEvent, EventType
from payments.domain.payment import Change, Dispute, Payment

CLOSED = frozenset({"won", "lost", "warning_closed", "prevented"})
# Inquiries (warning_*) can turn into chargebacks, never the other way round.
_RANK: dict[str, int] = {
    "warning_needs_response": 0,
    "warning_under_review": 1,
    "needs_response": 2,
    "under_review": 3,
    **dict.fromkeys(CLOSED, 4),
}


@dataclass(frozen=True)
class StripeDispute:
    """What we need from a Stripe Dispute, free of SDK types; money totals from its balance transactions."""

    id: str
    status: str
    reason: str
    amount: int
    currency: str
    amount_withdrawn: int = 0
    fee: int = 0
    amount_reinstated: int = 0
    fee_reinstated: int = 0


def apply_dispute(payment: Payment, news: StripeDispute, at: str) -> Change | None:
    """The payment after Stripe's news about its dispute; None when the news adds nothing."""
    before = payment.dispute
    if before is not None and before.id != news.id:
        return None  # one charge per payment, so one dispute: another id is not this payment's
    after = _merge(before, news)
    if after == before:
        return None
    event_type: EventType = "DisputeUpdated"
    if before is None:
        event_type = "ChargebackReceived"
    elif after.status in CLOSED and before.status not in CLOSED:
        event_type = "DisputeClosed"
    updated = payment.record(event_type, at, dispute=after).payment
    # record() describes the payment; the ledger also needs the money this very event moved.
    movement = _movement(before, after, payment.currency)
    return Change(updated, DomainEvent.about(updated, event_type, at, dispute_movement=movement))


def _merge(before: Dispute | None, news: StripeDispute) -> Dispute:
    if before is None:
        return Dispute(
            id=news.id,
            status=news.status,
            reason=news.reason,
            amount=news.amount,
            currency=news.currency,
            amount_withdrawn=news.amount_withdrawn,
            fee=news.fee,
            amount_reinstated=news.amount_reinstated,
            fee_reinstated=news.fee_reinstated,
        )
    # Unknown statuses (Stripe adds some now and then) rank lowest: they never move a known one.
    news_rank, rank = _RANK.get(news.status, -1), _RANK.get(before.status, -1)
    forward = news_rank > rank
    # Before closing, Stripe may still refine the reason; afterwards the dispute is settled.
    current = news_rank >= rank and before.status not in CLOSED
    return Dispute(
        id=before.id,
        status=news.status if forward else before.status,
        reason=news.reason if current else before.reason,
        amount=before.amount,
        currency=before.currency or news.currency,
        amount_withdrawn=max(before.amount_withdrawn, news.amount_withdrawn),
        fee=max(before.fee, news.fee),
        amount_reinstated=max(before.amount_reinstated, news.amount_reinstated),
        fee_reinstated=max(before.fee_reinstated, news.fee_reinstated),
    )


def _lost(dispute: Dispute | None) -> int:
    """Disputed funds that are gone for good: what is still withdrawn once the dispute is lost."""
    if dispute is None or dispute.status != "lost":
        return 0
    return dispute.amount_withdrawn - dispute.amount_reinstated


def _movement(before: Dispute | None, after: Dispute, currency: str) -> DisputeMovementData:
    was = before or Dispute(id=after.id, status="", reason="", amount=0)
    return DisputeMovementData(
        currency=after.currency or currency,
        withdrawn=after.amount_withdrawn - was.amount_withdrawn,
        fee=after.fee - was.fee,
        reinstated=after.amount_reinstated - was.amount_reinstated,
        fee_reinstated=after.fee_reinstated - was.fee_reinstated,
        lost=_lost(after) - _lost(before),
    )
