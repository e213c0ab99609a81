"""Disputes (pure): what Stripe says about a payment's dispute, applied forward only.

A dispute's status only moves forward (inquiry -> chargeback -> under review -> closed) and its money
totals (withdrawn, fees, reinstated: Stripe's balance transactions) only grow. So news arriving late,
twice or out of order ends in the same state, and each event carries just the money it adds
(`dispute_movement`), which is what the ledger books.

Events: the first news of a dispute is `ChargebackReceived` (whatever its status, even when a
reordered delivery brings the closed dispute first); moving into a closed status is `DisputeClosed`;
any other change (status, reason, money) is `DisputeUpdated`.

The admins' read model of each dispute (`DisputeRecord`: status, deadline, evidence details, the files
we uploaded) moves by the same rule (`advance`), and so does the deadline's announcement
(`DisputeDeadlineApproaching`, once per dispute and threshold, recorded on the payment's dispute).
Stripe's evidence fields and their limits live here too (`EVIDENCE_FIELDS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Literal

from payments.domain.errors import Conflict
from payments.domain.events import DisputeDeadlineData, DisputeMovementData, DomainEvent, EventType
from payments.domain.payment import Change, Dispute, Payment


class DisputeStatus(StrEnum):
    """Stripe's dispute statuses (inquiries are the warning_* ones)."""

    WARNING_NEEDS_RESPONSE = "warning_needs_response"
    WARNING_UNDER_REVIEW = "warning_under_review"
    WARNING_CLOSED = "warning_closed"
    NEEDS_RESPONSE = "needs_response"
    UNDER_REVIEW = "under_review"
    WON = "won"
    LOST = "lost"
    PREVENTED = "prevented"


D = DisputeStatus
CLOSED = frozenset({D.WON, D.LOST, D.WARNING_CLOSED, D.PREVENTED})
# Stripe waits for our answer in these; in every other status it is Stripe's or the bank's turn.
NEEDS_RESPONSE = frozenset({D.NEEDS_RESPONSE, D.WARNING_NEEDS_RESPONSE})
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
    # What the admins' read model keeps besides (Stripe's evidence_details; due_by in Unix seconds).
    charge: str | None = None
    payment_intent: str | None = None
    due_by: int | None = None
    has_evidence: bool = False
    past_due: bool = False
    submission_count: int = 0
    # The evidence as Stripe holds it (staged or submitted): the fields that are set, file ids for files.
    evidence: dict[str, str] = field(default_factory=dict)


def advance(status: str, reason: str, news: StripeDispute) -> tuple[str, str, bool]:
    """The status and reason after Stripe's news, and whether the news is current: the one rule for the
    payment's dispute and the admins' record, so late, repeated or reordered news never moves back.

    The status only moves forward (unknown statuses, which Stripe adds now and then, rank lowest: they
    never move a known one). Until it closes Stripe may still refine the dispute (its reason, its
    deadline): news at least as far along as what we hold is current; afterwards it is settled."""
    news_rank, rank = _RANK.get(news.status, -1), _RANK.get(status, -1)
    current = news_rank >= rank and status not in CLOSED
    return (news.status if news_rank > rank else status), (news.reason if current else reason), current


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
    status, reason, _ = advance(before.status, before.reason, news)
    return replace(
        before,
        status=status,
        reason=reason,
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


# --------------------------------------------------------------------------- the admins' read model


@dataclass(frozen=True)
class EvidenceFile:
    """A file we uploaded to Stripe (Files API, purpose dispute_evidence) for one evidence field."""

    field: str
    file_id: str
    filename: str
    type: str  # Stripe's File.type: pdf, jpg, png
    size: int  # bytes


@dataclass(frozen=True)
class DisputeRecord:
    """One dispute as admins list and answer it, kept from Stripe's news and our own requests.

    Moves like the payment's dispute (`advance`); the evidence details only grow (Stripe counts
    submissions and never forgets that evidence was given); the deadline follows current news."""

    id: str
    payment_id: str
    status: str
    reason: str
    amount: int
    currency: str
    created_at: str
    updated_at: str
    version: int = 1
    charge_id: str | None = None
    payment_intent_id: str | None = None
    due_by: int | None = None  # Unix seconds, as Stripe gives it
    has_evidence: bool = False
    past_due: bool = False
    submission_count: int = 0
    files: tuple[EvidenceFile, ...] = ()
    # The tightest deadline notice announced (the payment's dispute holds the authoritative mark; this
    # copy only spares the deadline watcher a read of the payment).
    deadline_notice_hours: int | None = None

    @property
    def evidence_submitted(self) -> bool:
        return self.submission_count > 0

    def ensure_open(self) -> None:
        if self.status in CLOSED:
            raise Conflict("dispute_closed", f"the dispute is {self.status}: it takes no more answers")

    def ensure_answerable(self) -> None:
        """Evidence may be staged or submitted only while Stripe waits for it, and submitted once."""
        self.ensure_open()
        if self.evidence_submitted or self.status not in NEEDS_RESPONSE:
            raise Conflict(
                "evidence_already_submitted",
                "the evidence was submitted; Stripe accepts one submission and then no change",
            )

    def ensure_acceptable(self) -> None:
        self.ensure_open()
        if self.status not in NEEDS_RESPONSE:
            raise Conflict(
                "evidence_already_submitted",
                "the evidence was submitted; the bank decides now, the dispute cannot be accepted",
            )


def record_dispute(
    before: DisputeRecord | None,
    news: StripeDispute,
    payment_id: str,
    at: str,
    files: tuple[EvidenceFile, ...] = (),
) -> DisputeRecord | None:
    """The record after Stripe's news and the `files` we uploaded for it; None when they add nothing (a
    repeat, a late arrival)."""
    if before is None:
        first = DisputeRecord(
            id=news.id,
            payment_id=payment_id,
            status=news.status,
            reason=news.reason,
            amount=news.amount,
            currency=news.currency,
            created_at=at,
            updated_at=at,
            charge_id=news.charge,
            payment_intent_id=news.payment_intent,
            due_by=news.due_by,
            has_evidence=news.has_evidence,
            past_due=news.past_due,
            submission_count=news.submission_count,
        )
        return _naming(first, files)
    status, reason, current = advance(before.status, before.reason, news)
    after = replace(
        before,
        status=status,
        reason=reason,
        charge_id=before.charge_id or news.charge,
        payment_intent_id=before.payment_intent_id or news.payment_intent,
        due_by=news.due_by if current and news.due_by is not None else before.due_by,
        has_evidence=before.has_evidence or news.has_evidence,
        past_due=before.past_due or news.past_due,
        submission_count=max(before.submission_count, news.submission_count),
    )
    after = _naming(after, files)
    return None if after == before else replace(after, version=before.version + 1, updated_at=at)


def _naming(record: DisputeRecord, files: tuple[EvidenceFile, ...]) -> DisputeRecord:
    """The record also naming `files`: a field's newer file replaces its older one."""
    if not files:
        return record
    fields = {f.field for f in files}
    return replace(record, files=(*(f for f in record.files if f.field not in fields), *files))


# --------------------------------------------------------------------------- deadlines

# Hours before evidence_details.due_by at which DisputeDeadlineApproaching is announced, widest first.
DEADLINE_NOTICE_HOURS: tuple[Literal[72, 24], ...] = (72, 24)


def notice_due(due_by: int, now: int) -> Literal[72, 24] | None:
    """The tightest notice whose threshold has been crossed (None: not yet, or the deadline passed). A
    dispute first seen a day before its deadline gets the 24 h notice only: the 72 h one is moot."""
    left = due_by - now
    crossed = [hours for hours in DEADLINE_NOTICE_HOURS if 0 < left <= hours * 3600]
    return min(crossed) if crossed else None


def announce_deadline(
    payment: Payment, record: DisputeRecord, hours: Literal[72, 24], due_by: str, at: str
) -> Change | None:
    """The payment announcing that its dispute's deadline is `hours` away; None when that notice (or a
    tighter one) went out already, or the dispute no longer waits for us."""
    dispute = payment.dispute
    if dispute is None or dispute.id != record.id or record.status not in NEEDS_RESPONSE:
        return None
    if dispute.status not in NEEDS_RESPONSE:
        return None
    if dispute.deadline_notice_hours is not None and dispute.deadline_notice_hours <= hours:
        return None
    updated = payment.record(
        "DisputeDeadlineApproaching", at, dispute=replace(dispute, deadline_notice_hours=hours)
    ).payment
    deadline = DisputeDeadlineData(dispute_id=record.id, status=record.status, due_by=due_by, hours=hours)
    return Change(updated, DomainEvent.about(updated, "DisputeDeadlineApproaching", at, deadline=deadline))


# --------------------------------------------------------------------------- Stripe's evidence fields

# POST /v1/disputes/{id} evidence[...] (Stripe's API reference and openapi spec): explanations take
# 20,000 characters, other text 5,000, the documents are file ids (Files API, purpose
# dispute_evidence); all the fields together take 150,000 characters.
MAX_EXPLANATION_CHARS = 20_000
MAX_TEXT_CHARS = 5_000
MAX_EVIDENCE_CHARS = 150_000
EXPLANATION_FIELDS = (
    "access_activity_log",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "duplicate_charge_explanation",
    "product_description",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "uncategorized_text",
)
TEXT_FIELDS = (
    "billing_address",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "duplicate_charge_id",
    "service_date",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_tracking_number",
)
FILE_FIELDS = (
    "cancellation_policy",
    "customer_communication",
    "customer_signature",
    "duplicate_charge_documentation",
    "receipt",
    "refund_policy",
    "service_documentation",
    "shipping_documentation",
    "uncategorized_file",
)
EVIDENCE_FIELDS = (*EXPLANATION_FIELDS, *TEXT_FIELDS, *FILE_FIELDS)
# Stripe's dispute evidence files: PDF, JPEG or PNG of at most 5 MB. Stripe tells the type from the
# content (the SDK sends every file as application/octet-stream), so we check the content too.
MAX_EVIDENCE_FILE_BYTES = 5 * 1024 * 1024
EVIDENCE_FILE_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
_SIGNATURES = {"pdf": b"%PDF-", "jpg": b"\xff\xd8\xff", "png": b"\x89PNG\r\n\x1a\n"}


def file_type_of(content: bytes) -> str | None:
    """Stripe's File.type of the content (pdf, jpg, png) by its signature; None for anything else."""
    return next((kind for kind, magic in _SIGNATURES.items() if content.startswith(magic)), None)
