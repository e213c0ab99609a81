"""Admins answer disputes: the list by status (soonest due first), one dispute with its evidence, evidence
staged then submitted once, and accepting the loss; every bad request refused before Stripe is asked."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.integration.disputes.conftest import (
    PNG,
    admin,
    deliver_news,
    dispute_events,
    evidence,
    file_part,
    open_dispute,
)
from tests.support.api import call
from tests.support.bus import put_stripe_event
from tests.support.stripe_evidence import EXPLANATIONS
from tests.support.stripe_webhooks import history, ledger_balances, payment, stripe_client


def listed(status: str | None = None) -> list[dict]:
    """A status's disputes (none given: the route's default, needs_response)."""
    response = admin("GET", "/disputes", query=f"status={status}" if status else "")
    assert response.status == 200, response.body
    return list(response.body["data"])


def test_the_subscriber_keeps_a_record_that_lists_by_status_soonest_due_first(aws, emulator, dispatcher):
    later = open_dispute(emulator, dispatcher)
    # Opened two hours earlier, so due two hours earlier (Stripe gives the same response window).
    with time_machine.travel(datetime.now(UTC) - timedelta(hours=2), tick=True):
        sooner = open_dispute(emulator, dispatcher, reason="fraudulent")

    rows = listed()
    assert [r["id"] for r in rows] == [sooner["dispute"]["id"], later["dispute"]["id"]]
    first = rows[0]
    due_by = datetime.fromtimestamp(sooner["dispute"]["evidence_details"]["due_by"], UTC)
    assert {k: first[k] for k in ("payment_id", "amount", "currency", "reason", "status")} == {
        "payment_id": sooner["payment"]["id"],
        "amount": 10_000,
        "currency": "usd",
        "reason": "fraudulent",
        "status": "needs_response",
    }
    assert first["evidence_details"] == {
        "due_by": due_by.isoformat().replace("+00:00", "Z"),
        "has_evidence": False,
        "past_due": False,
        "submission_count": 0,
    }
    assert (first["evidence_submitted"], first["files"]) == (False, [])
    assert listed("under_review") == []

    emulator.close_dispute(later["dispute"]["id"], won=False)
    deliver_news(emulator, dispatcher, later["dispute"]["id"])
    assert [r["id"] for r in listed("needs_response")] == [sooner["dispute"]["id"]]
    assert [r["id"] for r in listed("lost")] == [later["dispute"]["id"]]


def test_pages_of_a_status_follow_their_signed_cursor(aws, emulator, dispatcher):
    opened = [open_dispute(emulator, dispatcher)["dispute"]["id"] for _ in range(3)]
    first = admin("GET", "/disputes", query="status=needs_response&limit=2")
    second = admin(
        "GET", "/disputes", query=f"status=needs_response&limit=2&cursor={first.body['next_cursor']}"
    )
    assert len(first.body["data"]) == 2
    assert {r["id"] for r in first.body["data"] + second.body["data"]} == set(opened)
    # The cursor is bound to its query: another status cannot reuse it.
    other = admin("GET", "/disputes", query=f"status=lost&limit=2&cursor={first.body['next_cursor']}")
    assert (other.status, other.body["code"]) == (400, "invalid_cursor")


def test_late_or_repeated_news_never_moves_the_record_back(aws, emulator, dispatcher):
    opened = open_dispute(emulator, dispatcher)
    dispute_id = opened["dispute"]["id"]
    stripe_client(emulator).v1.disputes.update(dispute_id, params={"evidence": {"uncategorized_text": "ok"}})
    emulator.close_dispute(dispute_id, won=False)
    news = dispute_events(emulator, dispute_id)
    for event in [*news, *reversed(news)]:  # at least once, in any order: the oldest news comes last
        put_stripe_event(event)
    dispatcher.drain()

    (row,) = listed("lost")
    assert (row["id"], row["evidence_details"]["submission_count"]) == (dispute_id, 1)
    assert row["evidence_details"]["has_evidence"] is True
    assert listed("needs_response") == listed("under_review") == []
    assert payment(opened["payment"]["id"])["dispute"]["status"] == "lost"


def test_evidence_is_staged_then_submitted_once_and_a_second_submission_is_refused(aws, emulator, dispatcher):
    opened = open_dispute(emulator, dispatcher)
    dispute_id = opened["dispute"]["id"]

    staged = evidence(
        dispute_id,
        {"evidence": {"uncategorized_text": "Delivered, signed for."}, "files": [file_part("receipt")]},
    )
    assert staged.status == 200, staged.body
    (uploaded,) = staged.body["files"]
    assert (uploaded["field"], uploaded["type"], uploaded["filename"]) == ("receipt", "pdf", "receipt.pdf")
    assert staged.body["evidence"] == {
        "uncategorized_text": "Delivered, signed for.",
        "receipt": uploaded["file_id"],
    }
    assert (staged.body["status"], staged.body["evidence_submitted"]) == ("needs_response", False)
    assert staged.body["evidence_details"]["has_evidence"] is True
    (file,) = stripe_client(emulator).v1.files.list().data
    assert (file.id, file.purpose) == (uploaded["file_id"], "dispute_evidence")

    more = evidence(dispute_id, {"evidence": {"customer_name": "Jenny Rosen"}})
    detail = admin("GET", f"/disputes/{dispute_id}")
    assert more.status == detail.status == 200
    assert detail.body["evidence"] == {
        "customer_name": "Jenny Rosen",
        "uncategorized_text": "Delivered, signed for.",
        "receipt": uploaded["file_id"],
    }
    assert detail.body["files"] == [uploaded]

    submitted = evidence(dispute_id, {"submit": True}, idempotency_key="submit-1")
    assert submitted.status == 200, submitted.body
    assert (submitted.body["status"], submitted.body["evidence_submitted"]) == ("under_review", True)
    assert submitted.body["evidence_details"]["submission_count"] == 1
    replayed = evidence(dispute_id, {"submit": True}, idempotency_key="submit-1")
    assert (replayed.status, replayed.header("Idempotent-Replayed")) == (200, "true")

    for again in (
        {"submit": True},
        {"evidence": {"customer_name": "J. Rosen"}},
        {"files": [file_part("receipt")]},
    ):
        refused = evidence(dispute_id, again)
        assert (refused.status, refused.body["code"]) == (409, "evidence_already_submitted"), again
    assert stripe_client(emulator).v1.disputes.retrieve(dispute_id).evidence_details.submission_count == 1

    deliver_news(emulator, dispatcher, dispute_id)
    assert payment(opened["payment"]["id"])["dispute"]["status"] == "under_review"
    assert [r["id"] for r in listed("under_review")] == [dispute_id]


def test_a_submission_made_in_stripes_dashboard_meanwhile_is_a_409(aws, emulator, dispatcher):
    dispute_id = open_dispute(emulator, dispatcher)["dispute"]["id"]
    stripe_client(emulator).v1.disputes.update(
        dispute_id, params={"evidence": {"uncategorized_text": "dash"}}
    )

    refused = evidence(dispute_id, {"evidence": {"customer_name": "Jenny Rosen"}, "submit": True})

    assert (refused.status, refused.body["code"]) == (409, "evidence_already_submitted")
    # Stripe's refusal made the record learn what happened, before the webhook told it.
    assert admin("GET", f"/disputes/{dispute_id}").body["evidence_details"]["submission_count"] == 1


def test_accepting_closes_the_dispute_lost_and_the_books_follow(aws, emulator, dispatcher):
    opened = open_dispute(emulator, dispatcher)
    dispute_id = opened["dispute"]["id"]

    for body, why in (
        ({}, "missing"),
        ({"confirm": "yes"}, "wrong"),
        ({"confirm": "accept_loss", "x": 1}, "extra"),
    ):
        refused = admin("POST", f"/disputes/{dispute_id}/accept", body=body)
        assert (refused.status, refused.body["code"]) == (400, "validation_error"), why
    assert emulator.get(dispute_id)["status"] == "needs_response"

    accepted = admin("POST", f"/disputes/{dispute_id}/accept", body={"confirm": "accept_loss"})

    assert accepted.status == 200, accepted.body
    assert accepted.body["status"] == "lost"
    assert emulator.get(dispute_id)["status"] == "lost"
    assert [r["id"] for r in listed("lost")] == [dispute_id]
    again = admin("POST", f"/disputes/{dispute_id}/accept", body={"confirm": "accept_loss"})
    assert (again.status, again.body["code"]) == (409, "dispute_closed")
    closed = evidence(dispute_id, {"evidence": {"uncategorized_text": "too late"}, "files": [file_part()]})
    assert (closed.status, closed.body["code"]) == (409, "dispute_closed")
    assert stripe_client(emulator).v1.files.list().data == []  # refused before any upload

    deliver_news(emulator, dispatcher, dispute_id)
    assert payment(opened["payment"]["id"])["dispute"]["status"] == "lost"
    assert history(opened["payment"]["id"])[-1] == "DisputeClosed"
    assert ledger_balances()["chargeback_losses"] == 10_000


def test_a_submitted_dispute_cannot_be_accepted(aws, emulator, dispatcher):
    dispute_id = open_dispute(emulator, dispatcher)["dispute"]["id"]
    assert evidence(dispute_id, {"evidence": {"uncategorized_text": "ok"}, "submit": True}).status == 200
    refused = admin("POST", f"/disputes/{dispute_id}/accept", body={"confirm": "accept_loss"})
    assert (refused.status, refused.body["code"]) == (409, "evidence_already_submitted")
    assert emulator.get(dispute_id)["status"] == "under_review"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"evidence": {"appeal_letter": "please"}}, "evidence.appeal_letter"),
        ({"evidence": {"uncategorized_text": "x" * 20_001}}, "evidence.uncategorized_text"),
        ({"evidence": {"customer_name": "x" * 5_001}}, "evidence.customer_name"),
        ({"evidence": dict.fromkeys(EXPLANATIONS, "x" * 20_000)}, "evidence"),
        ({"evidence": {"receipt": "not-a-file-id"}}, "evidence.receipt"),
        ({"files": [file_part("uncategorized_text")]}, "files.0.field"),
        ({"files": [file_part(content=b"plain text")]}, "files.0"),
        ({"files": [file_part(content=PNG)]}, "files.0"),  # says PDF, is a PNG
        ({"files": [{**file_part(), "content": "%%% not base64 %%%"}]}, "files.0"),
        ({"files": [{**file_part(), "filename": "../etc/passwd"}]}, "files.0.filename"),
        ({"files": [file_part(), file_part()]}, "body"),
        ({"evidence": {"receipt": "file_abc"}, "files": [file_part()]}, "body"),
        ({"submit": False}, "body"),
        ({"submit": "yes"}, "submit"),
        ({"evidence": {"uncategorized_text": "ok"}, "unknown": 1}, "unknown"),
    ],
    ids=[
        "unknown evidence field",
        "explanation over 20,000",
        "text over 5,000",
        "all fields over 150,000",
        "not a file id",
        "a file for a text field",
        "not a document",
        "type not the content's",
        "not base64",
        "a path for a filename",
        "two files for one field",
        "a file id and a file for one field",
        "nothing to stage",
        "submit not a boolean",
        "unknown top-level field",
    ],
)
def test_bad_evidence_is_refused_before_stripe_is_asked(aws, emulator, dispatcher, body, field):
    dispute_id = open_dispute(emulator, dispatcher)["dispute"]["id"]

    refused = evidence(dispute_id, body)

    assert (refused.status, refused.body["code"]) == (400, "validation_error"), refused.body
    assert field in {e["field"] for e in refused.body["errors"]}, refused.body["errors"]
    assert emulator.get(dispute_id)["evidence_details"]["has_evidence"] is False
    assert stripe_client(emulator).v1.files.list().data == []


def test_a_body_over_the_routes_limit_is_refused(aws, emulator, dispatcher):
    dispute_id = open_dispute(emulator, dispatcher)["dispute"]["id"]
    big = {**file_part(), "content": base64.b64encode(b"%PDF-" + b"\x00" * 4_200_000).decode()}
    refused = evidence(dispute_id, {"files": [big]})
    assert (refused.status, refused.body["code"]) == (400, "payload_too_large")
    # Other routes keep the guards' 64 KB.
    fine = evidence(
        dispute_id,
        {"files": [{**file_part(), "content": base64.b64encode(b"%PDF-" + b"\x00" * 300_000).decode()}]},
    )
    assert fine.status == 200, fine.body
    small = admin(
        "POST", f"/disputes/{dispute_id}/accept", body={"confirm": "accept_loss", "pad": "x" * 70_000}
    )
    assert (small.status, small.body["code"]) == (400, "payload_too_large")


def test_a_file_id_stripe_does_not_know_is_stripes_refusal(aws, emulator, dispatcher):
    dispute_id = open_dispute(emulator, dispatcher)["dispute"]["id"]
    refused = evidence(dispute_id, {"evidence": {"receipt": "file_unknown"}})
    assert (refused.status, refused.body["code"]) == (400, "invalid_request")
    assert refused.body["param"] == "evidence[receipt]"


def test_unknown_disputes_and_customers(aws, emulator, dispatcher):
    dispute_id = open_dispute(emulator, dispatcher)["dispute"]["id"]
    for method, path, body in (
        ("GET", "/disputes/dp_unknown", None),
        ("POST", "/disputes/dp_unknown/evidence", {"submit": True}),
        ("POST", "/disputes/dp_unknown/accept", {"confirm": "accept_loss"}),
    ):
        missing = admin(method, path, body=body)
        assert (missing.status, missing.body["code"]) == (404, "not_found"), path
    for method, path in (("GET", "/disputes"), ("GET", f"/disputes/{dispute_id}")):
        assert call(method, path).status == 403
    bad = admin("GET", "/disputes", query="status=open")
    assert (bad.status, bad.body["code"]) == (400, "validation_error")
