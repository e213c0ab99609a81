"""fraud_signals: Stripe Radar's reviews and early fraud warnings (from the emulator, through the catalog's
real rule) -> the payment's risk, its history and, for a warning, the refund through the refund path."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from functions.fraud_signals.app import handler
from infra import catalog
from payments.adapters.dynamodb.payments import TRANSACT_ATTEMPTS
from payments.domain.risk_rules import RiskRules
from tests.support.api import call
from tests.support.bus import put, put_stripe_event
from tests.support.dynamodb_faults import cancel_transactions
from tests.support.lambda_context import FakeLambdaContext
from tests.support.stripe_webhooks import (
    emitted,
    history,
    intent_of,
    intent_outside_our_api,
    ledger_balances,
    pay,
    pay_with_3ds,
    payment,
    stripe_client,
)

WARNING_CARD = "pm_card_createIssuerFraudRecord"
CREATED = "radar.early_fraud_warning.created"
UPDATED = "radar.early_fraud_warning.updated"


def outcomes(deliveries: list[Any], function: str = "fraud_signals") -> list[str]:
    return [d.outcome for d in deliveries if d.function == function]


def warning_of(emulator: Any, payment_id: str, event_type: str = CREATED) -> dict[str, Any]:
    return emitted(emulator, event_type, intent_of(payment_id, emulator)["id"])


def deliver_warning(emulator: Any, dispatcher: Any, payment_id: str) -> list[str]:
    put_stripe_event(warning_of(emulator, payment_id))
    return outcomes(dispatcher.drain())


def refunds_at_stripe(emulator: Any, payment_id: str) -> list[dict[str, Any]]:
    intent = intent_of(payment_id, emulator)["id"]
    return [r for r in emulator.refunds() if r["payment_intent"] == intent]


def bus_event(detail: dict[str, Any], source: str = catalog.STRIPE_EVENT_SOURCE) -> dict[str, Any]:
    """A Stripe event as EventBridge hands it to the subscriber."""
    return {
        "version": "0",
        "id": "3f6b8a62-7f0e-4a8e-9f3e-5b9a1c2d3e4f",
        "detail-type": detail["type"],
        "source": source,
        "account": "123456789012",
        "time": "2026-11-26T12:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def fraud_signals(event: dict[str, Any]) -> dict[str, str]:
    result: dict[str, str] = handler(bus_event(event), FakeLambdaContext(function_name="fraud_signals"))
    return result


def events_of(payment_id: str) -> list[dict[str, Any]]:
    response = call("GET", f"/payments/{payment_id}/events", sub="admin-1", admin=True)
    return list(response.body["data"])


# --------------------------------------------------------------------------- early fraud warnings


def test_an_early_fraud_warning_on_a_paid_payment_ends_refunded(stripe_chain, dispatcher, emitted_metrics):
    paid = pay(payment_method_id=WARNING_CARD)

    assert stripe_chain.wait_for_webhooks(timeout=10)
    deliveries = dispatcher.drain()
    assert {d.outcome for d in deliveries} == {"ok"}, [d for d in deliveries if d.outcome != "ok"]

    refunded = payment(paid["id"])
    (warning,) = stripe_chain.early_fraud_warnings()
    assert (refunded["status"], refunded["amount_refunded"]) == ("refunded", 10_000)
    assert refunded["risk"]["fraud_warning"]["id"] == warning["id"]
    assert (
        refunded["risk"]["fraud_warning"]["fraud_type"],
        refunded["risk"]["fraud_warning"]["actionable"],
    ) == (
        "made_with_stolen_card",
        True,
    )
    (refund,) = refunded["refunds"]
    assert (refund["amount"], refund["reason"], refund["status"]) == (10_000, "fraudulent", "succeeded")
    assert history(paid["id"]) == [
        "PaymentInitiated",
        "PaymentProcessed",
        "FraudWarningReceived",
        "RefundRequested",
        "RefundIssued",
    ]
    (at_stripe,) = refunds_at_stripe(stripe_chain, paid["id"])
    assert (at_stripe["reason"], at_stripe["metadata"]["early_fraud_warning"]) == (
        "fraudulent",
        warning["id"],
    )
    assert at_stripe["metadata"]["refund_id"] == refund["id"]
    # Stripe's news of its own refund and of the warning no longer actionable changed nothing more.
    assert stripe_chain.early_fraud_warnings()[0]["actionable"] is False
    # Booked as any refund: the sale stays, the refund reverses it, Stripe keeps its fee.
    assert ledger_balances() == {
        "sales": -10_000,
        "refunds": 10_000,
        "stripe_balance": 10_000 - 320 - 10_000,
        "stripe_fees": 320,
    }
    metrics = emitted_metrics()
    assert (metrics["FraudWarnings"], metrics["FraudWarningRefunds"]) == (1, 1)


def test_the_warning_twice_refunds_once(aws, emulator, dispatcher):
    paid = pay(payment_method_id=WARNING_CARD)
    warning = warning_of(emulator, paid["id"])

    for event in (warning, warning):  # the bus delivers at least once
        put_stripe_event(event)
    assert outcomes(dispatcher.drain()) == ["ok", "ok"]
    assert fraud_signals(warning) == {"outcome": "FraudSignalsUnchanged"}

    assert len(refunds_at_stripe(emulator, paid["id"])) == 1
    assert history(paid["id"]).count("FraudWarningReceived") == 1
    assert history(paid["id"]).count("RefundRequested") == 1
    assert payment(paid["id"])["status"] == "refunded"


def test_the_updated_event_alone_records_and_refunds(aws, emulator, dispatcher):
    """Whichever of the warning's events comes first acts, on Stripe's word as of now."""
    paid = pay(payment_method_id=WARNING_CARD)
    warning = warning_of(emulator, paid["id"])
    update = {**warning, "id": "evt_warningupdate", "type": UPDATED}

    assert fraud_signals(update) == {"outcome": "FraudWarningRefunds"}
    assert fraud_signals(warning) == {"outcome": "FraudSignalsUnchanged"}
    assert payment(paid["id"])["status"] == "refunded"


def test_a_partially_refunded_payment_gets_the_rest_refunded(aws, emulator, dispatcher):
    paid = pay()
    assert (
        call(
            "POST", f"/payments/{paid['id']}/refunds", body={"amount": 3_000}, sub="admin-1", admin=True
        ).status
        == 201
    )
    emulator.create_early_fraud_warning(intent_of(paid["id"], emulator)["id"])

    assert deliver_warning(emulator, dispatcher, paid["id"]) == ["ok"]

    after = payment(paid["id"])
    assert (after["status"], after["amount_refunded"]) == ("refunded", 10_000)
    assert sorted(r["amount"] for r in refunds_at_stripe(emulator, paid["id"])) == [3_000, 7_000]
    assert history(paid["id"])[-3:] == ["FraudWarningReceived", "RefundRequested", "RefundIssued"]


def test_a_warning_on_a_disputed_payment_is_recorded_not_refunded(aws, emulator, dispatcher):
    paid = pay()
    intent = intent_of(paid["id"], emulator)["id"]
    emulator.create_early_fraud_warning(intent)  # actionable when created
    dispute = emulator.create_dispute(intent)  # the warning is not actionable from now on
    for event in emulator.events("charge.dispute.*"):
        put_stripe_event(event)
    dispatcher.drain()

    assert deliver_warning(emulator, dispatcher, paid["id"]) == ["ok"]

    after = payment(paid["id"])
    assert after["dispute"]["id"] == dispute["id"]
    assert after["risk"]["fraud_warning"]["actionable"] is False  # Stripe's word at the time we read it
    assert refunds_at_stripe(emulator, paid["id"]) == []
    assert history(paid["id"])[-1] == "FraudWarningReceived"


def test_a_fully_refunded_payment_is_not_refunded_again(aws, emulator, dispatcher):
    paid = pay()
    assert call("POST", f"/payments/{paid['id']}/refunds", body={}, sub="admin-1", admin=True).status == 201
    emulator.create_early_fraud_warning(intent_of(paid["id"], emulator)["id"])

    assert deliver_warning(emulator, dispatcher, paid["id"]) == ["ok"]

    assert len(refunds_at_stripe(emulator, paid["id"])) == 1
    assert history(paid["id"])[-1] == "FraudWarningReceived"
    assert payment(paid["id"])["status"] == "refunded"


def test_notify_only_records_the_warning(aws, emulator, dispatcher, emitted_metrics):
    rules = {**RiskRules().model_dump(mode="json"), "early_fraud_warning": "notify"}
    assert call("PUT", "/risk/rules", body=rules, sub="admin-1", admin=True).status == 200
    paid = pay(payment_method_id=WARNING_CARD)

    assert deliver_warning(emulator, dispatcher, paid["id"]) == ["ok"]

    after = payment(paid["id"])
    assert (after["status"], after["risk"]["fraud_warning"]["actionable"]) == ("succeeded", True)
    assert refunds_at_stripe(emulator, paid["id"]) == []
    metrics = emitted_metrics()
    assert (metrics["FraudWarnings"], metrics["FraudWarningsRecorded"]) == (1, 1)


def test_a_warning_before_our_books_hold_the_capture_waits_for_it(aws, emulator, dispatcher):
    held = pay(capture="manual")  # requires_capture in our books
    intent = intent_of(held["id"], emulator)["id"]
    stripe_client(emulator).v1.payment_intents.capture(intent)  # captured at Stripe: news not here yet
    emulator.create_early_fraud_warning(intent)
    warning = warning_of(emulator, held["id"])

    from payments.domain.refund import RefundNotApplicable

    with pytest.raises(RefundNotApplicable):  # EventBridge retries it
        fraud_signals(warning)
    assert history(held["id"])[-1] == "FraudWarningReceived"  # recorded at once
    assert refunds_at_stripe(emulator, held["id"]) == []

    put_stripe_event(emitted(emulator, "payment_intent.succeeded", intent))
    assert outcomes(dispatcher.drain(), "payment_status") == ["ok"]
    assert fraud_signals(warning) == {"outcome": "FraudWarningRefunds"}  # the retry

    assert payment(held["id"])["status"] == "refunded"
    assert history(held["id"])[-4:] == [
        "FraudWarningReceived",
        "PaymentCaptured",
        "RefundRequested",
        "RefundIssued",
    ]


def test_a_warning_on_an_authorization_stripe_holds_uncaptured_is_only_recorded(aws, emulator, dispatcher):
    held = pay(capture="manual")
    emulator.create_early_fraud_warning(intent_of(held["id"], emulator)["id"])

    assert deliver_warning(emulator, dispatcher, held["id"]) == ["ok"]

    after = payment(held["id"])
    assert (after["status"], after["risk"]["fraud_warning"]["actionable"]) == ("requires_capture", True)
    assert history(held["id"])[-1] == "FraudWarningReceived"


def test_a_warning_before_our_own_write_is_retried_then_parked(aws, emulator, dispatcher):
    intent = intent_outside_our_api(emulator, "pay_notwrittenyet000000000000", payment_method=WARNING_CARD)
    put_stripe_event(emitted(emulator, CREATED, intent.id))

    assert outcomes(dispatcher.drain()) == ["retry", "retry", "dlq"]
    assert [r for r in emulator.refunds() if r["payment_intent"] == intent.id] == []


def test_a_failure_after_stripe_refunded_refunds_once_on_the_retry(aws, emulator, dispatcher):
    paid = pay(payment_method_id=WARNING_CARD)
    warning = warning_of(emulator, paid["id"])
    # The warning and the reservation commit; every try to record Stripe's answer meets another write.
    injected = cancel_transactions(TRANSACT_ATTEMPTS, "TransactionConflict", after=2)

    from payments.domain.errors import StoreUnavailable

    with pytest.raises(StoreUnavailable):
        fraud_signals(warning)
    assert len(injected) == TRANSACT_ATTEMPTS
    assert len(refunds_at_stripe(emulator, paid["id"])) == 1  # Stripe acted
    (reserved,) = payment(paid["id"])["refunds"]
    assert (reserved["status"], reserved["stripe_refund_id"]) == ("pending", None)  # our books lag

    assert fraud_signals(warning) == {"outcome": "FraudWarningRefunds"}  # EventBridge's retry resumes it

    (at_stripe,) = refunds_at_stripe(emulator, paid["id"])
    (refund,) = payment(paid["id"])["refunds"]
    assert (refund["status"], refund["stripe_refund_id"]) == ("succeeded", at_stripe["id"])
    assert payment(paid["id"])["status"] == "refunded"
    assert history(paid["id"]).count("RefundIssued") == 1


def test_a_forged_warning_on_the_bus_refunds_nothing(aws, emulator, dispatcher, emitted_metrics):
    paid = pay()
    intent = intent_of(paid["id"], emulator)
    forged = {
        "id": "evt_forged0000000000000001",
        "object": "event",
        "type": CREATED,
        "created": 1795694400,
        "livemode": False,
        "api_version": "2026-10-28.endive",
        "data": {
            "object": {
                "id": "issfr_forged00000000000001",
                "object": "radar.early_fraud_warning",
                "actionable": True,
                "charge": intent["latest_charge"],
                "payment_intent": intent["id"],
                "fraud_type": "made_with_stolen_card",
                "created": 1795694400,
                "livemode": False,
            }
        },
    }

    put_stripe_event(forged)  # as if someone put source "stripe" past IAM
    assert outcomes(dispatcher.drain()) == ["ok"]
    put(catalog.DOMAIN_EVENT_SOURCE, CREATED, forged)  # another source: no rule routes it here
    assert outcomes(dispatcher.drain()) == []
    with pytest.raises(ValidationError, match="source"):  # and the handler refuses it anyway
        handler(bus_event(forged, source="payments"), FakeLambdaContext(function_name="fraud_signals"))

    assert refunds_at_stripe(emulator, paid["id"]) == []
    assert payment(paid["id"])["risk"] is None or payment(paid["id"])["risk"]["fraud_warning"] is None
    assert history(paid["id"]) == ["PaymentInitiated", "PaymentProcessed"]
    assert emitted_metrics()["FraudSignalsUnknownAtStripe"] == 1


def test_a_forged_event_naming_a_real_warning_acts_on_stripes_word(aws, emulator, dispatcher):
    """The event says `actionable` and names another payment's intent; Stripe's object decides."""
    paid = pay()
    other = pay()
    assert call("POST", f"/payments/{paid['id']}/refunds", body={}, sub="admin-1", admin=True).status == 201
    emulator.create_early_fraud_warning(intent_of(paid["id"], emulator)["id"])  # not actionable
    forged = warning_of(emulator, paid["id"])
    forged["data"]["object"].update(actionable=True, payment_intent=intent_of(other["id"], emulator)["id"])

    put_stripe_event(forged)
    assert outcomes(dispatcher.drain()) == ["ok"]

    assert refunds_at_stripe(emulator, other["id"]) == []
    assert history(other["id"]) == ["PaymentInitiated", "PaymentProcessed"]
    assert payment(paid["id"])["risk"]["fraud_warning"]["actionable"] is False


# --------------------------------------------------------------------------- Stripe's reviews


def review_events(emulator: Any, payment_id: str) -> list[dict[str, Any]]:
    intent = intent_of(payment_id, emulator)["id"]
    return [e for e in emulator.events("review.*") if e["data"]["object"]["payment_intent"] == intent]


def test_stripes_review_opened_then_approved(aws, emulator, dispatcher):
    paid = pay(payment_method_id="pm_card_riskLevelElevated")
    (opened,) = review_events(emulator, paid["id"])
    put_stripe_event(opened)
    assert outcomes(dispatcher.drain()) == ["ok"]
    review = payment(paid["id"])["risk"]["review"]
    assert (review["source"], review["status"], review["reason"]) == ("stripe", "open", "rule")
    assert review["stripe_review_id"] == opened["data"]["object"]["id"]

    stripe_client(emulator).v1.reviews.approve(review["stripe_review_id"])
    put_stripe_event(review_events(emulator, paid["id"])[-1])
    assert outcomes(dispatcher.drain()) == ["ok"]

    closed = payment(paid["id"])["risk"]["review"]
    assert (closed["status"], closed["reason"], closed["closed_by"]) == ("approved", "approved", "stripe")
    assert closed["opened_at"] == review["opened_at"]
    assert history(paid["id"])[-2:] == ["PaymentReviewOpened", "PaymentReviewClosed"]
    assert payment(paid["id"])["status"] == "succeeded"


def test_a_review_closed_before_its_opening_arrives_stays_closed(aws, emulator, dispatcher):
    paid = pay(payment_method_id="pm_card_riskLevelElevated")
    emulator.close_review(intent_of(paid["id"], emulator)["review"], "refund_as_fraud")
    opened, closed = review_events(emulator, paid["id"])

    for event in (closed, opened, closed):
        put_stripe_event(event)
    assert outcomes(dispatcher.drain()) == ["ok", "ok", "ok"]

    review = payment(paid["id"])["risk"]["review"]
    assert (review["status"], review["reason"]) == ("rejected", "refunded_as_fraud")
    assert history(paid["id"]).count("PaymentReviewClosed") == 1
    assert "PaymentReviewOpened" not in history(paid["id"])


def test_a_review_stripe_does_not_have_is_ignored(aws, emulator, dispatcher, emitted_metrics):
    paid = pay(payment_method_id="pm_card_riskLevelElevated")
    (opened,) = review_events(emulator, paid["id"])
    opened["data"]["object"]["id"] = "prv_forged000000000000001"

    put_stripe_event(opened)

    assert outcomes(dispatcher.drain()) == ["ok"]
    assert payment(paid["id"])["risk"]["review"] is None
    assert emitted_metrics()["FraudSignalsUnknownAtStripe"] == 1


# --------------------------------------------------------------------------- Radar's outcome


def test_radar_outcomes_are_on_the_payment_and_in_its_history(aws, emulator, emitted_metrics):
    elevated = pay(payment_method_id="pm_card_riskLevelElevated")
    normal = pay()
    highest = call(
        "POST",
        "/payments",
        body={
            "order_id": "order-risk-highest",
            "amount": 10_000,
            "currency": "usd",
            "payment_method_id": "pm_card_riskLevelHighest",
        },
    )
    blocked = call(
        "POST",
        "/payments",
        body={
            "order_id": "order-risk-block",
            "amount": 10_000,
            "currency": "usd",
            "payment_method_id": "pm_card_radarBlock",
        },
    )

    assert payment(elevated["id"])["risk"]["radar"] == {
        "risk_level": "elevated",
        "risk_score": 70,
        "rule": "review_if_elevated_risk",
        "outcome_type": "manual_review",
        "seller_message": "Stripe evaluated this payment as having elevated risk, and placed it in your "
        "manual review queue.",
        "network_status": "approved_by_network",
    }
    assert payment(normal["id"])["risk"]["radar"]["outcome_type"] == "authorized"
    assert (highest.status, blocked.status) == (402, 402)
    for response, rule in ((highest, "block_if_high_risk"), (blocked, None)):
        failed = payment(response.body["payment_id"])
        assert failed["status"] == "failed"
        assert failed["risk"]["radar"]["outcome_type"] == "blocked"
        assert (failed["risk"]["radar"]["risk_level"], failed["risk"]["radar"]["rule"]) == ("highest", rule)
        last = events_of(failed["id"])[-1]
        assert last["event_type"] == "PaymentFailed"  # the outcome rides on the status it came with
        assert last["data"]["risk"]["radar"] == failed["risk"]["radar"]
    (processed,) = [e for e in events_of(elevated["id"]) if e["event_type"] == "PaymentProcessed"]
    assert processed["data"]["risk"]["radar"]["risk_level"] == "elevated"
    assert emitted_metrics()["RadarBlocked"] == 2


def test_radar_outcome_of_a_charge_made_after_3d_secure_comes_from_the_webhook(aws, emulator, dispatcher):
    """The answer had no charge yet; payment_intent.succeeded names it by id: payment_status reads the
    intent once for its outcome, and the same news again changes nothing."""
    started = pay_with_3ds()
    intent = intent_of(started["id"], emulator)["id"]
    emulator.authenticate_payment_intent(intent, succeed=True)
    succeeded = emitted(emulator, "payment_intent.succeeded", intent)
    assert isinstance(succeeded["data"]["object"]["latest_charge"], str)

    for _ in range(2):
        put_stripe_event(succeeded)
        assert outcomes(dispatcher.drain(), "payment_status") == ["ok"]

    radar = payment(started["id"])["risk"]["radar"]
    assert (radar["risk_level"], radar["outcome_type"]) == ("normal", "authorized")
    assert history(started["id"]) == ["PaymentInitiated", "PaymentRequiresAction", "PaymentProcessed"]
    assert events_of(started["id"])[-1]["data"]["risk"]["radar"] == radar
