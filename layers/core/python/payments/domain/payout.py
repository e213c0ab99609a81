"""Payouts (pure): Stripe moving our balance to the bank, applied forward only.

A payout's status only moves forward: pending -> in_transit -> paid, and from any of them to failed
(Stripe may fail a payout even after it reported it paid) or, before it left, to canceled. News that
arrives late, twice or out of order never moves it back, and every move is one domain event that
carries the status it left (`previous_status`), which is what the ledger books:

- created (pending or in transit): stripe_balance -> payouts_in_transit;
- paid: payouts_in_transit -> bank (or stripe_balance -> bank when paid is the first news);
- failed or canceled: the money is back in stripe_balance, from wherever our books had it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from payments.domain.events import DomainEvent, EventType, PayoutData


class PayoutStatus(StrEnum):
    PENDING = "pending"
    IN_TRANSIT = "in_transit"
    PAID = "paid"
    FAILED = "failed"
    CANCELED = "canceled"


_RANK = {
    PayoutStatus.PENDING: 0,
    PayoutStatus.IN_TRANSIT: 1,
    PayoutStatus.PAID: 2,
    PayoutStatus.FAILED: 3,
    PayoutStatus.CANCELED: 3,
}
# The event of entering each status. Pending and in transit are one event: our money left the balance.
_EVENT: dict[PayoutStatus, EventType] = {
    PayoutStatus.PENDING: "PayoutCreated",
    PayoutStatus.IN_TRANSIT: "PayoutCreated",
    PayoutStatus.PAID: "PayoutPaid",
    PayoutStatus.FAILED: "PayoutFailed",
    PayoutStatus.CANCELED: "PayoutCanceled",
}


@dataclass(frozen=True)
class StripePayout:
    """What we need from a Stripe Payout, free of SDK types."""

    id: str
    amount: int
    currency: str
    status: str
    automatic: bool = False
    arrival_date: int | None = None
    failure_code: str | None = None


@dataclass(frozen=True)
class Payout:
    id: str
    amount: int
    currency: str
    status: PayoutStatus
    automatic: bool
    created_at: str
    updated_at: str
    version: int = 1
    previous_status: PayoutStatus | None = None  # before the last change (what its event carries)
    arrival_date: int | None = None
    failure_code: str | None = None
    stripe_event_id: str | None = None  # the Stripe event that made the last change

    def event(self) -> DomainEvent:
        """The event of the payout's last change; its id is stable, so a republish is deduped."""
        data = PayoutData(
            id=self.id,
            amount=self.amount,
            currency=self.currency,
            status=self.status.value,
            automatic=self.automatic,
            arrival_date=self.arrival_date,
            failure_code=self.failure_code,
            previous_status=self.previous_status.value if self.previous_status else None,
        )
        return DomainEvent(
            event_id=f"{self.id}:v{self.version}",
            event_type=_EVENT[self.status],
            version=self.version,
            occurred_at=self.updated_at,
            data=data.model_dump(mode="json"),
        )


def apply_payout(
    current: Payout | None, news: StripePayout, at: str, stripe_event_id: str | None = None
) -> Payout | None:
    """The payout after Stripe's news (carried by `stripe_event_id`); None when the news moves
    nothing (a repeat, an older status, an unknown status, or pending <-> in transit, which books
    nothing new)."""
    try:
        status = PayoutStatus(news.status)
    except ValueError:
        return None  # a status Stripe added later: it never moves a known one
    if current is None:
        return Payout(
            id=news.id,
            amount=news.amount,
            currency=news.currency,
            status=status,
            automatic=news.automatic,
            created_at=at,
            updated_at=at,
            arrival_date=news.arrival_date,
            failure_code=news.failure_code,
            stripe_event_id=stripe_event_id,
        )
    if _RANK[status] <= _RANK[current.status] or _EVENT[status] == _EVENT[current.status]:
        return None
    return replace(
        current,
        status=status,
        previous_status=current.status,
        updated_at=at,
        version=current.version + 1,
        arrival_date=news.arrival_date if news.arrival_date is not None else current.arrival_date,
        failure_code=news.failure_code or current.failure_code,
        stripe_event_id=stripe_event_id,
    )
