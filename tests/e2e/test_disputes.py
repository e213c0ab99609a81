"""Disputes through the local stack as `make dev` runs it: a cardholder disputes (the test card), Stripe's
signed webhooks reach the subscriber over the gateway, and the back office answers over HTTP (files
uploaded to the emulator's Files API); the deadline watcher runs on its timer."""

from __future__ import annotations

import base64
import time
from typing import Any

from tests.e2e.frontend import Frontend

PDF = base64.b64encode(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n").decode()


# Each function's first call is a cold start of its own process here (seconds on a busy machine).
WAIT_S = 90.0


def disputed(frontend: Frontend, timeout_s: float = WAIT_S) -> dict[str, Any]:
    """A payment its cardholder disputes at once; its dispute once the back office can list it."""
    payment = frontend.pay("pm_card_createDispute").json
    assert payment["status"] == "succeeded", payment
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        page = frontend.admin.get("/disputes?status=needs_response&limit=100")
        assert page.status == 200, page.body
        found = [d for d in page.json["data"] if d["payment_id"] == payment["id"]]
        if found:
            return found[0]
        time.sleep(0.3)
    raise AssertionError(f"the dispute of {payment['id']} was never listed")


def test_evidence_staged_then_submitted_once(frontend: Frontend) -> None:
    dispute = disputed(frontend)
    assert (dispute["reason"], dispute["amount"], dispute["evidence_details"]["submission_count"]) == (
        "fraudulent",
        2599,
        0,
    )
    path = f"/disputes/{dispute['id']}/evidence"
    receipt = {
        "field": "receipt",
        "filename": "receipt.pdf",
        "content_type": "application/pdf",
        "content": PDF,
    }

    staged = frontend.admin.post(path, {"evidence": {"customer_name": "Alice"}, "files": [receipt]})
    assert staged.status == 200, staged.body
    assert staged.json["evidence"]["receipt"].startswith("file_")
    assert frontend.alice.get(f"/disputes/{dispute['id']}").status == 403
    submitted = frontend.admin.post(path, {"submit": True})
    assert (submitted.status, submitted.json["status"]) == (200, "under_review"), submitted.body
    again = frontend.admin.post(path, {"submit": True})
    assert (again.status, again.code) == (409, "evidence_already_submitted")
    frontend.wait_for_output("dispatch", "charge.dispute.updated", "disputes ok", timeout_s=WAIT_S)


def test_accepting_closes_the_dispute_lost(frontend: Frontend) -> None:
    dispute = disputed(frontend)
    path = f"/disputes/{dispute['id']}/accept"

    assert frontend.admin.post(path, {}).status == 400
    accepted = frontend.admin.post(path, {"confirm": "accept_loss"})

    assert (accepted.status, accepted.json["status"]) == (200, "lost"), accepted.body
    frontend.wait_for_payment(
        dispute["payment_id"], lambda p: (p.get("dispute") or {}).get("status") == "lost"
    )


def test_the_deadline_watcher_runs_on_its_timer(frontend: Frontend) -> None:
    line = frontend.wait_for_output("timer", "dispute_deadlines ok", timeout_s=WAIT_S)
    assert '"past_due"' in line
