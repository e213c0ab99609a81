"""Review holds through the real handlers: a payment the checks send to review is only authorized and
held; an admin's capture approves it, an admin's cancel rejects it, the janitor expires it; a customer
decides nothing; an approval and an expiry that race count once; Stripe's news before our own write."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Barrier
from typing import Any

import pytest

from payments import services
from payments.application.manage_payment import Actor, capture_payment, expire_hold
from tests.integration.risk_checks.conftest import ADMIN, admin, history, pay, pay_body, use_rules
from tests.support.api import call, handler_for
from tests.support.bus import put_stripe_event
from tests.support.dynamodb_faults import cancel_transactions
from tests.support.lambda_context import FakeLambdaContext
from tests.support.stripe_webhooks import emitted, intent_of

REVIEW_ABOVE = {"review_above_amount": {"usd": 1000}, "review_hold_hours": 2}


def held_payment(**overrides: Any) -> dict[str, Any]:
    response = pay(amount=2500, **overrides)
    assert response.status == 201, response.body
    return dict(response.body)


def as_admin(payment_id: str) -> dict[str, Any]:
    return dict(admin("GET", f"/payments/{payment_id}").body)


def event_types(payment_id: str) -> list[str]:
    return [e["event_type"] for e in history(payment_id)]


def run_janitor(hours_later: float) -> dict[str, Any]:
    import time_machine

    with time_machine.travel(datetime.now(UTC) + timedelta(hours=hours_later), tick=True):
        result: dict[str, Any] = handler_for("janitor")({}, FakeLambdaContext(function_name="janitor"))
    return result


def test_a_payment_to_review_is_authorized_held_and_approved_by_an_admins_capture(
    aws, emulator, bus, emitted_metrics
):
    use_rules(review=REVIEW_ABOVE)
    payment = held_payment()  # the customer asked for an automatic capture
    assert (payment["status"], payment["capture_method"], payment["amount_captured"]) == (
        "requires_capture",
        "manual",
        0,
    )
    # The customer is told it is under review, nothing of why.
    assert payment["risk"]["decision"]["reasons"] == [
        {
            "code": "under_review",
            "message": "The payment is authorized and being reviewed before it is captured",
        }
    ]
    assert payment["risk"]["review"]["status"] == "open"
    assert "review_above_amount" not in str(payment)
    held = as_admin(payment["id"])["risk"]
    assert [r["code"] for r in held["decision"]["reasons"]] == ["review_above_amount"]
    assert (held["review"]["source"], held["review"]["status"]) == ("rules", "open")
    assert event_types(payment["id"]) == ["PaymentInitiated", "PaymentHeldForReview"]
    assert intent_of(payment["id"], emulator)["status"] == "requires_capture"

    captured = admin("POST", f"/payments/{payment['id']}/capture")

    assert captured.status == 200, captured.body
    assert (captured.body["status"], captured.body["amount_captured"]) == ("succeeded", 2500)
    review = captured.body["risk"]["review"]
    assert (review["status"], review["closed_by"]) == ("approved", ADMIN)
    assert event_types(payment["id"]) == [
        "PaymentInitiated",
        "PaymentHeldForReview",
        "PaymentReviewApproved",
        "PaymentCaptured",
    ]
    approved = history(payment["id"])[2]["data"]["risk"]["review"]
    assert (approved["status"], approved["closed_by"]) == ("approved", ADMIN)
    metrics = emitted_metrics()
    assert (metrics.get("RiskHeld"), metrics.get("RiskApproved")) == (1, 1)
    published = [e["detail-type"] for e in bus.drain() if e["detail"].get("payment_id") == payment["id"]]
    assert "PaymentHeldForReview" in published
    assert "PaymentReviewApproved" in published


def test_an_admins_cancel_rejects_a_held_payment_and_frees_the_order(aws, emulator, emitted_metrics):
    use_rules(review=REVIEW_ABOVE)
    body = pay_body(amount=2500)
    payment = call("POST", "/payments", body=body).body
    assert payment["status"] == "requires_capture"

    canceled = admin("POST", f"/payments/{payment['id']}/cancel")

    assert canceled.status == 200, canceled.body
    assert canceled.body["status"] == "canceled"
    assert canceled.body["risk"]["review"]["status"] == "rejected"
    assert event_types(payment["id"]) == [
        "PaymentInitiated",
        "PaymentHeldForReview",
        "PaymentReviewRejected",
        "PaymentCanceled",
    ]
    intent = intent_of(payment["id"], emulator)
    assert (intent["status"], intent["cancellation_reason"]) == ("canceled", "fraudulent")
    assert emitted_metrics().get("RiskRejected") == 1
    # The order is free again.
    again = call("POST", "/payments", body={**body, "amount": 900})
    assert again.status == 201, again.body
    assert again.body["status"] == "succeeded"


def test_a_customer_decides_nothing_about_their_own_held_payment(aws, emulator):
    use_rules(review=REVIEW_ABOVE)
    payment = held_payment()

    capture = call("POST", f"/payments/{payment['id']}/capture")
    cancel = call("POST", f"/payments/{payment['id']}/cancel")

    assert (capture.status, capture.body["code"]) == (403, "forbidden")
    assert (cancel.status, cancel.body["code"]) == (409, "payment_under_review")
    still = as_admin(payment["id"])
    assert (still["status"], still["risk"]["review"]["status"]) == ("requires_capture", "open")
    assert intent_of(payment["id"], emulator)["status"] == "requires_capture"
    assert event_types(payment["id"]) == ["PaymentInitiated", "PaymentHeldForReview"]


def test_a_customer_may_still_cancel_a_manual_payment_that_is_not_held(aws, emulator):
    use_rules(review=REVIEW_ABOVE)
    payment = pay(amount=900, capture="manual").body
    assert payment["status"] == "requires_capture"
    assert payment["risk"]["review"] is None
    assert call("POST", f"/payments/{payment['id']}/cancel").status == 200


def test_a_hold_not_decided_in_time_is_canceled_by_the_janitor(aws, emulator, emitted_metrics):
    use_rules(review=REVIEW_ABOVE)
    old = held_payment()
    manual = pay(amount=900, capture="manual").body  # requires_capture, but nobody's hold

    assert run_janitor(hours_later=1)["holds_expired"] == 0  # within review_hold_hours
    report = run_janitor(hours_later=3)

    assert report["holds_expired"] == 1
    expired = as_admin(old["id"])
    assert (expired["status"], expired["risk"]["review"]["status"]) == ("canceled", "expired")
    assert expired["risk"]["review"]["closed_by"] == "expiry"
    assert event_types(old["id"])[-2:] == ["PaymentReviewExpired", "PaymentCanceled"]
    intent = intent_of(old["id"], emulator)
    assert (intent["status"], intent["cancellation_reason"]) == ("canceled", "abandoned")
    assert as_admin(manual["id"])["status"] == "requires_capture"
    assert emitted_metrics().get("RiskExpired") == 1
    assert run_janitor(hours_later=4)["holds_expired"] == 0  # nothing left on the holds index


def test_an_admin_capture_after_the_expiry_won_is_refused(aws, emulator):
    use_rules(review=REVIEW_ABOVE)
    payment = held_payment()
    store, gateway = services.store(), services.gateway()
    stale = store.payments.get(payment["id"])
    assert stale is not None
    expire_hold(stale, store, gateway)

    # The admin decided on the payment as it was before the expiry: the version tells.
    with pytest.raises(Exception, match="expired") as refused:
        capture_payment(stale, store, gateway, by=Actor(ADMIN, admin=True))
    assert getattr(refused.value, "code", None) == "payment_review_closed"
    assert intent_of(payment["id"], emulator)["status"] == "canceled"
    assert as_admin(payment["id"])["amount_captured"] == 0
    refused_again = admin("POST", f"/payments/{payment['id']}/capture")
    assert refused_again.status == 409


def test_an_expiry_after_the_admin_approved_changes_nothing(aws, emulator):
    use_rules(review=REVIEW_ABOVE)
    payment = held_payment()
    store, gateway = services.store(), services.gateway()
    stale = store.payments.get(payment["id"])
    assert stale is not None
    assert admin("POST", f"/payments/{payment['id']}/capture").status == 200

    after = expire_hold(stale, store, gateway)

    assert after.status == "succeeded"
    assert intent_of(payment["id"], emulator)["status"] == "succeeded"
    assert "PaymentReviewExpired" not in event_types(payment["id"])


def test_a_racing_expiry_and_approval_decide_the_hold_once(aws, emulator):
    use_rules(review=REVIEW_ABOVE)
    payment = held_payment()
    store, gateway = services.store(), services.gateway()
    seen = store.payments.get(payment["id"])
    assert seen is not None
    start = Barrier(2)

    def approve() -> str:
        start.wait()
        try:
            return str(capture_payment(seen, store, gateway, by=Actor(ADMIN, admin=True)).status)
        except Exception as error:  # the expiry won
            return str(getattr(error, "code", error))

    def expire() -> str:
        start.wait()
        return str(expire_hold(seen, store, gateway).status)

    with ThreadPoolExecutor(2) as pool:
        approved, expired = (f.result() for f in [pool.submit(approve), pool.submit(expire)])

    decided = [t for t in event_types(payment["id"]) if t.startswith("PaymentReview")]
    final = as_admin(payment["id"])
    if decided == ["PaymentReviewApproved"]:
        # The expiry found the review approved: before the capture was recorded, or after.
        assert (approved, expired in ("requires_capture", "succeeded")) == ("succeeded", True)
        assert (final["status"], final["amount_captured"]) == ("succeeded", 2500)
    else:
        assert decided == ["PaymentReviewExpired"]
        assert (approved, expired) == ("payment_review_closed", "canceled")
        assert (final["status"], final["amount_captured"]) == ("canceled", 0)


def test_stripes_news_before_our_own_write_holds_the_payment_once(aws, emulator, dispatcher):
    use_rules(review=REVIEW_ABOVE)
    body = pay_body(amount=2500)
    # Stripe authorizes it, then our record of its answer keeps failing: the request answers 503.
    cancel_transactions(times=5, after=1)
    first = call("POST", "/payments", body=body, idempotency_key="held-early")
    assert first.status == 503, first.body
    (intent,) = emulator.payment_intents()
    assert intent["status"] == "requires_capture"

    put_stripe_event(emitted(emulator, "payment_intent.amount_capturable_updated", intent["id"]))
    dispatcher.drain()
    payment_id = intent["metadata"]["payment_id"]
    assert as_admin(payment_id)["risk"]["review"]["status"] == "open"

    retried = call("POST", "/payments", body=body, idempotency_key="held-early")
    assert retried.status == 201, retried.body
    assert retried.body["status"] == "requires_capture"
    assert event_types(payment_id) == ["PaymentInitiated", "PaymentHeldForReview"]


def test_every_decision_is_in_risk_and_in_the_history(aws, emulator):
    allowed = pay(amount=900)
    assert allowed.status == 201
    decision = as_admin(allowed.body["id"])["risk"]["decision"]
    assert (decision["decision"], decision["reasons"]) == ("allow", [])
    (initiated, processed) = history(allowed.body["id"])
    assert initiated["data"]["risk"]["decision"]["decision"] == "allow"
    assert processed["data"]["risk"]["decision"]["decision"] == "allow"
