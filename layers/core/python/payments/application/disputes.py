"""The disputes subscriber's use case: Stripe's charge.dispute.* events -> the payment's dispute.

Mapping back: a dispute names its PaymentIntent, whose metadata holds our payment id (one Stripe read,
remembered while warm). The dispute's state comes from the event itself and is applied forward only
(domain/dispute.py), so duplicates and any order of delivery end in the same state. The money comes
from the dispute's balance transactions, which Stripe embeds in the dispute object.

After the payment, the same news refreshes the admins' read model of the dispute (its DISPUTE#
record, `record_news`) by the same forward-only rule. It is a projection: written after the payment's
change; a failure fails the event, whose retry finds the payment moved already (no second event) and
writes the record.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from payments.application.clock import now
from payments.application.commit import Store
from payments.application.ports import DisputeRecords, RefundGateway, StripeEventSource
from payments.application.stripe_event import StripeEvent, full_object
from payments.domain.dispute import (
    DisputeRecord,
    EvidenceFile,
    StripeDispute,
    apply_dispute,
    record_dispute,
)
from payments.domain.errors import ConcurrentUpdate

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 4


class BalanceTransactionObject(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    amount: int
    fee: int = 0
    currency: str


class EvidenceDetailsObject(BaseModel):
    model_config = ConfigDict(extra="ignore")

    due_by: int | None = None
    has_evidence: bool = False
    past_due: bool = False
    submission_count: int = 0


class DisputeObject(BaseModel):
    model_config = ConfigDict(extra="ignore")

    object: str = Field(pattern="^dispute$")
    id: str
    status: str
    reason: str
    amount: int
    currency: str
    # Ids, or the objects themselves where a request expanded them.
    charge: str | dict[str, Any] | None = None
    payment_intent: str | dict[str, Any] | None = None
    balance_transactions: list[BalanceTransactionObject] = Field(default_factory=list)
    evidence_details: EvidenceDetailsObject = Field(default_factory=EvidenceDetailsObject)
    evidence: dict[str, Any] = Field(default_factory=dict)

    @property
    def intent_id(self) -> str | None:
        return _id(self.payment_intent)

    def snapshot(self) -> StripeDispute:
        """The dispute in our terms: the totals of what it took from and gave back to our Stripe balance
        so far, Stripe's evidence details and the evidence it holds."""
        moves = self.balance_transactions
        return StripeDispute(
            id=self.id,
            status=self.status,
            reason=self.reason,
            amount=self.amount,
            currency=moves[0].currency if moves else self.currency,
            amount_withdrawn=sum(-t.amount for t in moves if t.amount < 0),
            fee=sum(t.fee for t in moves if t.fee > 0),
            amount_reinstated=sum(t.amount for t in moves if t.amount > 0),
            fee_reinstated=sum(-t.fee for t in moves if t.fee < 0),
            charge=_id(self.charge),
            payment_intent=self.intent_id,
            due_by=self.evidence_details.due_by,
            has_evidence=self.evidence_details.has_evidence,
            past_due=self.evidence_details.past_due,
            submission_count=self.evidence_details.submission_count,
            # A file field may come expanded into its File object; only what is set is evidence.
            evidence={
                name: value if isinstance(value, str) else str(value.get("id"))
                for name, value in self.evidence.items()
                if (isinstance(value, str) and value) or (isinstance(value, dict) and value.get("id"))
            },
        )


def _id(reference: str | dict[str, Any] | None) -> str | None:
    return reference if reference is None or isinstance(reference, str) else reference.get("id")


class DisputeOutcome(StrEnum):
    """What a dispute event did; the value is the metric counted."""

    OPENED = "DisputesOpened"
    UPDATED = "DisputesUpdated"
    CLOSED = "DisputesClosed"
    UNCHANGED = "DisputeEventsUnchanged"
    NOT_OURS = "StripeEventsNotOurs"


_OUTCOMES = {
    "ChargebackReceived": DisputeOutcome.OPENED,
    "DisputeUpdated": DisputeOutcome.UPDATED,
    "DisputeClosed": DisputeOutcome.CLOSED,
}


def apply_dispute_event(
    event: StripeEvent,
    store: Store,
    gateway: RefundGateway,
    source: StripeEventSource,
    records: DisputeRecords,
) -> DisputeOutcome:
    dispute = DisputeObject.model_validate(full_object(event, source))
    payment_id = gateway.payment_id_of_intent(dispute.intent_id) if dispute.intent_id else None
    if payment_id is None:
        # This service only makes PaymentIntents with our id in their metadata.
        logger.info("%s %s: dispute on a charge made elsewhere; ignored", event.type, dispute.id)
        return DisputeOutcome.NOT_OURS
    # A payment we do not hold (yet) raises NotFound in update: EventBridge retries, then the DLQ.
    news = dispute.snapshot()
    change = store.committed_change(payment_id, lambda payment: apply_dispute(payment, news, now()))
    record_news(records, news, payment_id)
    return _OUTCOMES[change.event.event_type] if change else DisputeOutcome.UNCHANGED


def record_news(
    records: DisputeRecords,
    news: StripeDispute,
    payment_id: str,
    files: tuple[EvidenceFile, ...] = (),
    *,
    known: DisputeRecord | None = None,
) -> DisputeRecord:
    """The dispute's record after Stripe's news (and the files we uploaded for it), written on the
    version it was decided on; a lost race reads again and decides again. `known`: the record as the
    caller just read it, decided on without a read (the write's condition tells if it was current)."""
    for _attempt in range(MAX_ATTEMPTS):
        before = known if known is not None else records.get(news.id)
        known = None  # after a lost race the record has moved on: read it
        after = record_dispute(before, news, payment_id, now(), files)
        if after is None:
            assert before is not None  # a first record is always made
            return before
        try:
            records.save(after)
        except ConcurrentUpdate:
            continue
        return after
    raise ConcurrentUpdate(f"dispute {news.id} kept changing; retry")
