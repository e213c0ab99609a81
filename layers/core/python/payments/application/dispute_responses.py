"""Admins answering disputes: the list by status (soonest due first), one dispute with the evidence
Stripe holds, evidence staged or submitted (once), and the dispute accepted (lost).

Stripe is the authority on a dispute: its one-submission rule and its idempotency decide. A command
uploads its files, then stages or submits the evidence, each under a Stripe idempotency key derived
from the caller's Idempotency-Key (one request, one set of Stripe keys), so a retried request replays
Stripe's answers and a new request is a new one: a second submission is refused by Stripe, which the
command reads again to say why (409). Stripe's answer refreshes the dispute's record at once, by the
same rule as its webhooks (application/disputes.py); the payment's dispute follows from the webhooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from payments.application.disputes import DisputeObject, record_news
from payments.application.ports import DisputeGateway, DisputeRecords, EvidenceUpload, Page
from payments.domain.dispute import DisputeRecord, StripeDispute
from payments.domain.errors import NotFound, ProviderRejected
from payments.domain.ids import derived_id


@dataclass(frozen=True)
class DisputeView:
    record: DisputeRecord
    evidence: dict[str, str]  # as Stripe holds it: the fields that are set


@dataclass(frozen=True)
class EvidenceResponse:
    dispute_id: str
    evidence: dict[str, str]  # text fields and file ids of files uploaded before
    files: Sequence[EvidenceUpload]
    submit: bool
    caller: str
    idempotency_key: str

    @property
    def stripe_key(self) -> str:
        return f"{self.dispute_id}:evidence:{derived_id('req', self.caller, self.idempotency_key)}"


def list_disputes(
    records: DisputeRecords, status: str, limit: int, start: dict[str, Any] | None
) -> Page[DisputeRecord]:
    return records.page(status, limit, start)


def dispute_detail(records: DisputeRecords, gateway: DisputeGateway, dispute_id: str) -> DisputeView:
    record = _record(records, dispute_id)
    return DisputeView(record, _at_stripe(gateway, dispute_id).evidence)


def respond(records: DisputeRecords, gateway: DisputeGateway, request: EvidenceResponse) -> DisputeView:
    """Upload the files, then stage the evidence or submit it."""
    record = _record(records, request.dispute_id)
    # A closed dispute takes nothing: refused before any upload. Whether the evidence may still change
    # is Stripe's to say (a retry of the request that submitted it must get its answer again).
    record.ensure_open()
    key = request.stripe_key
    uploaded = tuple(gateway.upload_evidence(f, f"{key}:file:{f.field}") for f in request.files)
    evidence = {**request.evidence, **{f.field: f.file_id for f in uploaded}}
    try:
        answer = gateway.update_evidence(record.id, evidence, request.submit, key)
    except ProviderRejected:
        _refused(records, gateway, record)
        raise
    news = DisputeObject.model_validate(answer).snapshot()
    return DisputeView(record_news(records, news, record.payment_id, uploaded, known=record), news.evidence)


def accept(
    records: DisputeRecords, gateway: DisputeGateway, dispute_id: str, caller: str, idempotency_key: str
) -> DisputeView:
    """Close the dispute at Stripe, conceding it: lost, irreversibly."""
    record = _record(records, dispute_id)
    key = f"{dispute_id}:accept:{derived_id('req', caller, idempotency_key)}"
    try:
        answer = gateway.close_dispute(record.id, key)
    except ProviderRejected:
        _refused(records, gateway, record, accepting=True)
        raise
    news = DisputeObject.model_validate(answer).snapshot()
    return DisputeView(record_news(records, news, record.payment_id, known=record), news.evidence)


def _record(records: DisputeRecords, dispute_id: str) -> DisputeRecord:
    record = records.get(dispute_id)
    if record is None:
        raise NotFound(f"dispute {dispute_id} not found", param="dispute_id")
    return record


def _at_stripe(gateway: DisputeGateway, dispute_id: str) -> StripeDispute:
    found = gateway.retrieve_dispute(dispute_id)
    if found is None:
        raise NotFound(f"dispute {dispute_id} not found at the payment provider", param="dispute_id")
    return DisputeObject.model_validate(found).snapshot()


def _refused(
    records: DisputeRecords, gateway: DisputeGateway, record: DisputeRecord, *, accepting: bool = False
) -> None:
    """Stripe refused the request: when it is because the dispute moved on (evidence submitted, the
    dispute closed, elsewhere too), the record learns it and that is the answer (409); otherwise the
    caller re-raises Stripe's refusal (400)."""
    current = record_news(records, _at_stripe(gateway, record.id), record.payment_id, known=record)
    if accepting:
        current.ensure_acceptable()
    else:
        current.ensure_answerable()
