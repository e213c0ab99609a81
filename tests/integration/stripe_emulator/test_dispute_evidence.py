"""Dispute evidence as Stripe takes it: files uploaded to the Files API (multipart, the SDK's `files`
base address), evidence staged (`submit=false`), submitted once, then frozen; Stripe's limits."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stripe
import time_machine

from infra.local.stripe_emulator import StripeEmulator
from tests.support.stripe_evidence import EXPLANATIONS

from .conftest import API_KEY, pay, raw_request

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def client(emu: StripeEmulator) -> stripe.StripeClient:
    """The SDK with both of Stripe's addresses, api.stripe.com and files.stripe.com, on the emulator."""
    return stripe.StripeClient(
        API_KEY, base_addresses={"api": emu.url, "files": emu.url}, max_network_retries=0
    )


def upload(client: stripe.StripeClient, content: bytes, filename: str = "receipt.pdf", **options: Any) -> Any:
    file = io.BytesIO(content)
    file.name = filename
    return client.v1.files.create(params={"file": file, "purpose": "dispute_evidence"}, options=options)


def disputed(client: stripe.StripeClient, emu: StripeEmulator) -> str:
    return str(emu.create_dispute(pay(client).id, reason="product_not_received")["id"])


@pytest.mark.parametrize(("content", "kind"), [(PDF, "pdf"), (PNG, "png"), (JPEG, "jpg")])
def test_an_upload_is_a_file_of_its_content_type(client, emu, content, kind) -> None:
    created = upload(client, content, filename=f"evidence.{kind}")

    assert created.id.startswith("file_")
    assert (created.purpose, created.type, created.size, created.filename) == (
        "dispute_evidence",
        kind,
        len(content),
        f"evidence.{kind}",
    )
    assert client.v1.files.retrieve(created.id).id == created.id
    assert [f.id for f in client.v1.files.list(params={"purpose": "dispute_evidence"}).data] == [created.id]


@pytest.mark.parametrize(
    "content",
    [b"plain text, not a document", b"", PDF + b"\x00" * (5 * 1024 * 1024)],
    ids=["not a pdf, jpeg or png", "empty", "over 5 MB"],
)
def test_uploads_stripe_refuses(client, emu, content) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        upload(client, content)
    assert refused.value.param == "file"
    assert client.v1.files.list().data == []


def test_an_upload_needs_multipart_and_a_purpose(client, emu) -> None:
    as_form = raw_request(emu.url, "POST", "/v1/files", body="purpose=dispute_evidence&file=abc")
    assert (as_form.status, as_form.json()["error"]["param"]) == (400, "file")
    with pytest.raises(stripe.InvalidRequestError) as purpose:
        client.v1.files.create(params={"file": io.BytesIO(PDF), "purpose": "business_logo"})
    assert purpose.value.param == "purpose"


def test_a_retried_upload_is_the_same_file(client, emu) -> None:
    first = upload(client, PDF, idempotency_key="dp_x:file:receipt")
    again = upload(client, PDF, idempotency_key="dp_x:file:receipt")
    assert again.id == first.id
    with pytest.raises(stripe.IdempotencyError):  # the same key for another file
        upload(client, PNG, filename="other.png", idempotency_key="dp_x:file:receipt")


def test_evidence_is_staged_then_submitted_once(client, emu) -> None:
    dispute_id = disputed(client, emu)
    receipt = upload(client, PDF)

    staged = client.v1.disputes.update(
        dispute_id,
        params={"evidence": {"uncategorized_text": "Delivered.", "receipt": receipt.id}, "submit": False},
    )
    assert (staged.status, staged.evidence.receipt, staged.evidence.uncategorized_text) == (
        "needs_response",
        receipt.id,
        "Delivered.",
    )
    details = staged.evidence_details
    assert (details.has_evidence, details.submission_count, details.past_due) == (True, 0, False)

    restaged = client.v1.disputes.update(
        dispute_id, params={"evidence": {"uncategorized_text": "Delivered, signed for."}, "submit": False}
    )
    assert restaged.evidence.receipt == receipt.id  # fields not sent stay staged
    submitted = client.v1.disputes.update(dispute_id, params={"submit": True})
    assert (submitted.status, submitted.evidence_details.submission_count) == ("under_review", 1)
    assert submitted.evidence.uncategorized_text == "Delivered, signed for."

    for again in ({"submit": True}, {"evidence": {"customer_name": "A. Cardholder"}, "submit": False}):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            client.v1.disputes.update(dispute_id, params=again)  # type: ignore[arg-type]
        assert "already been submitted" in str(refused.value.user_message)
    labelled = client.v1.disputes.update(dispute_id, params={"metadata": {"case": "c-1"}})
    assert labelled.metadata.to_dict() == {"case": "c-1"}  # metadata is not evidence
    assert [e["type"] for e in emu.events("charge.dispute.updated")] == ["charge.dispute.updated"] * 4


def test_a_submission_after_the_deadline_is_past_due(client, emu) -> None:
    dispute_id = disputed(client, emu)
    due_by = client.v1.disputes.retrieve(dispute_id).evidence_details.due_by
    with time_machine.travel(datetime.fromtimestamp(due_by, UTC) + timedelta(hours=1), tick=True):
        late = client.v1.disputes.update(dispute_id, params={"evidence": {"uncategorized_text": "late"}})
    assert (late.evidence_details.past_due, late.evidence_details.submission_count) == (True, 1)


@pytest.mark.parametrize(
    ("evidence", "param"),
    [
        ({"uncategorized_text": "x" * 20_001}, "evidence[uncategorized_text]"),
        ({"customer_name": "x" * 5_001}, "evidence[customer_name]"),
        ({"receipt": "file_unknown"}, "evidence[receipt]"),
        ({"appeal_letter": "please"}, "evidence[appeal_letter]"),
        (
            dict.fromkeys(EXPLANATIONS, "x" * 20_000),
            "evidence",
        ),
    ],
    ids=["explanation over 20,000", "text over 5,000", "unknown file", "unknown field", "over 150,000"],
)
def test_evidence_stripe_refuses(client, emu, evidence, param) -> None:
    dispute_id = disputed(client, emu)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.disputes.update(dispute_id, params={"evidence": evidence, "submit": False})
    assert refused.value.param == param
    assert client.v1.disputes.retrieve(dispute_id).evidence_details.has_evidence is False


def test_nothing_staged_is_nothing_to_submit(client, emu) -> None:
    dispute_id = disputed(client, emu)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.update(dispute_id, params={"submit": True})


def test_closed_disputes_take_no_evidence(client, emu) -> None:
    dispute_id = disputed(client, emu)
    assert client.v1.disputes.close(dispute_id).status == "lost"
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.disputes.update(dispute_id, params={"evidence": {"uncategorized_text": "too late"}})
    assert "already closed" in str(refused.value.user_message)
