"""Stripe Radar through the running stack: the emulator's test cards, its webhooks, the bus and the
fraud_signals subscriber, as `make dev` runs them."""

from __future__ import annotations

import pytest

from tests.e2e.frontend import Frontend

pytestmark = pytest.mark.e2e


def history(frontend: Frontend, payment_id: str) -> list[str]:
    return [e["event_type"] for e in frontend.admin.get(f"/payments/{payment_id}/events").json["data"]]


def test_an_early_fraud_warning_ends_in_a_refund(frontend: Frontend) -> None:
    paid = frontend.pay("pm_card_createIssuerFraudRecord", amount=4200)
    assert paid.status == 201, paid.body

    refunded = frontend.wait_for_payment(paid.json["id"], lambda p: p["status"] == "refunded", timeout_s=30)

    assert refunded["amount_refunded"] == 4200
    assert history(frontend, paid.json["id"])[-3:] == [
        "FraudWarningReceived",
        "RefundRequested",
        "RefundIssued",
    ]
    risk = frontend.admin.get(f"/payments/{paid.json['id']}").json["risk"]
    assert risk["fraud_warning"]["actionable"] is True
    frontend.wait_for_output("dispatch", "radar.early_fraud_warning.created", "fraud_signals ok")


def test_radar_outcomes_and_stripes_review_are_on_the_payment(frontend: Frontend) -> None:
    elevated = frontend.pay("pm_card_riskLevelElevated")
    blocked = frontend.pay("pm_card_riskLevelHighest")
    assert (elevated.status, blocked.status) == (201, 402)

    seen = frontend.admin.get(f"/payments/{elevated.json['id']}").json["risk"]
    assert (seen["radar"]["risk_level"], seen["radar"]["outcome_type"]) == ("elevated", "manual_review")
    frontend.wait_for_output("dispatch", "review.opened", "fraud_signals ok")
    review = frontend.admin.get(f"/payments/{elevated.json['id']}").json["risk"]["review"]
    assert (review["source"], review["status"]) == ("stripe", "open")
    failed = frontend.admin.get(f"/payments/{blocked.json['payment_id']}").json
    assert (failed["status"], failed["risk"]["radar"]["outcome_type"]) == ("failed", "blocked")
    assert history(frontend, failed["id"])[-1] == "PaymentFailed"
