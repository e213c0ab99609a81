"""Radar: outcomes of the risk test cards, reviews, early fraud warnings, and their webhooks."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator, WebhookChaos

from .conftest import Receiver, control, make_client, pay, raw_request


def outcome(client: stripe.StripeClient, intent_or_charge: Any) -> dict[str, Any]:
    charge_id = getattr(intent_or_charge, "latest_charge", None) or intent_or_charge
    return dict(client.v1.charges.retrieve(str(charge_id)).outcome.to_dict())  # type: ignore[union-attr]


def declined(client: stripe.StripeClient, payment_method: str) -> stripe.CardError:
    with pytest.raises(stripe.CardError) as raised:
        pay(client, payment_method)
    return raised.value


def test_normal_cards_are_authorized_at_normal_risk(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    intent = pay(client)

    assert outcome(client, intent) == {
        "advice_code": None,
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "approved_by_network",
        "reason": None,
        "risk_level": "normal",
        "risk_score": 32,
        "seller_message": "Payment complete.",
        "type": "authorized",
    }
    assert intent.review is None
    assert emu.reviews() == []


def test_issuer_declines_keep_their_reason_at_normal_risk(client: stripe.StripeClient) -> None:
    error = declined(client, "pm_card_chargeDeclinedInsufficientFunds")

    found = outcome(client, error.error.payment_intent.latest_charge)  # type: ignore[union-attr]
    assert (found["type"], found["reason"], found["risk_level"]) == (
        "issuer_declined",
        "insufficient_funds",
        "normal",
    )
    assert found["network_status"] == "declined_by_network"


def test_elevated_risk_succeeds_in_review_by_default(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    intent = pay(client, "pm_card_riskLevelElevated", expand=["latest_charge.review"])

    charge = intent.latest_charge
    assert isinstance(charge, stripe.Charge)
    review = charge.review
    assert isinstance(review, stripe.Review)
    assert intent.status == "succeeded"
    assert charge.outcome is not None
    assert charge.outcome.to_dict() == {
        "advice_code": None,
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "approved_by_network",
        "reason": "elevated_risk_level",
        "risk_level": "elevated",
        "risk_score": 70,
        "rule": "review_if_elevated_risk",
        "seller_message": "Stripe evaluated this payment as having elevated risk, and placed it in your "
        "manual review queue.",
        "type": "manual_review",
    }
    assert (review.open, review.opened_reason, review.reason, review.closed_reason) == (
        True,
        "rule",
        "rule",
        None,
    )
    assert (review.charge, review.payment_intent) == (charge.id, intent.id)
    assert review.id.startswith("prv_")
    assert client.v1.payment_intents.retrieve(intent.id).review == review.id
    assert [r.id for r in client.v1.reviews.list().data] == [review.id]
    types = [event["type"] for event in emu.events()]
    assert types == [
        "payment_intent.created",
        "charge.succeeded",
        "review.opened",
        "payment_intent.succeeded",
    ]
    assert emu.events("charge.succeeded")[0]["data"]["object"]["review"] == review.id
    assert emu.events("payment_intent.succeeded")[0]["data"]["object"]["review"] == review.id


def test_without_the_review_rule_elevated_risk_is_only_authorized(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    settings = control(emu, "settings", {"review_elevated_risk": False})

    intent = pay(client, "pm_card_riskLevelElevated")

    assert settings.json()["review_elevated_risk"] is False
    found = outcome(client, intent)
    assert (found["type"], found["risk_level"], found["reason"]) == ("authorized", "elevated", None)
    assert "rule" not in found
    assert intent.review is None
    assert emu.events("review.*") == []


def test_highest_risk_is_blocked_by_the_default_rule(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    error = declined(client, "pm_card_riskLevelHighest")

    assert (error.code, error.error.decline_code, error.user_message) == (  # type: ignore[union-attr]
        "card_declined",
        "generic_decline",
        "Your card was declined.",
    )
    intent = error.error.payment_intent  # type: ignore[union-attr]
    assert intent is not None
    assert intent.status == "requires_payment_method"
    assert outcome(client, intent.latest_charge) == {
        "advice_code": None,
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "not_sent_to_network",
        "reason": "highest_risk_level",
        "risk_level": "highest",
        "risk_score": 91,
        "rule": "block_if_high_risk",
        "seller_message": "Stripe blocked this payment as too risky.",
        "type": "blocked",
    }
    assert [event["type"] for event in emu.events()][-2:] == [
        "charge.failed",
        "payment_intent.payment_failed",
    ]


def test_without_the_block_rule_highest_risk_goes_through(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    emu.update_settings(block_highest_risk=False)

    intent = pay(client, "pm_card_riskLevelHighest")

    found = outcome(client, intent)
    assert intent.status == "succeeded"
    assert (found["type"], found["risk_level"], found["risk_score"]) == ("authorized", "highest", 91)


@pytest.mark.parametrize("payment_method", ["pm_card_radarBlock", "pm_card_chargeDeclinedFraudulent"])
def test_the_radar_block_card_is_blocked_whatever_the_rules(
    client: stripe.StripeClient, emu: StripeEmulator, payment_method: str
) -> None:
    emu.update_settings(block_highest_risk=False)

    error = declined(client, payment_method)

    assert (error.code, error.error.decline_code) == ("card_declined", "fraudulent")  # type: ignore[union-attr]
    found = outcome(client, error.error.payment_intent.latest_charge)  # type: ignore[union-attr]
    assert (found["type"], found["reason"], found["risk_level"]) == (
        "blocked",
        "highest_risk_level",
        "highest",
    )
    assert "rule" not in found  # no rule of the account's acted


def test_both_names_of_the_radar_block_card_are_one_card(client: stripe.StripeClient) -> None:
    first = client.v1.payment_methods.retrieve("pm_card_radarBlock")
    second = client.v1.payment_methods.retrieve("pm_card_chargeDeclinedFraudulent")

    assert first.card is not None
    assert second.card is not None
    assert (first.card.last4, first.card.fingerprint) == (second.card.last4, second.card.fingerprint)


# --------------------------------------------------------------------------- reviews


def test_approving_closes_the_review(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    intent = pay(client, "pm_card_riskLevelElevated")

    approved = client.v1.reviews.approve(str(intent.review))

    assert (approved.open, approved.closed_reason, approved.reason) == (False, "approved", "approved")
    assert client.v1.reviews.list().data == []  # Stripe lists open reviews
    assert client.v1.reviews.retrieve(approved.id).closed_reason == "approved"
    [closed] = emu.events("review.closed")
    assert closed["data"]["object"]["closed_reason"] == "approved"
    assert closed["data"]["previous_attributes"] == {"closed_reason": None, "open": True, "reason": "rule"}
    with pytest.raises(stripe.InvalidRequestError, match="already closed"):
        client.v1.reviews.approve(approved.id)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.reviews.retrieve("prv_missing")
    assert missing.value.http_status == 404


@pytest.mark.parametrize(
    ("action", "closed_reason", "refund_reason"),
    [("refund", "refunded", None), ("refund_as_fraud", "refunded_as_fraud", "fraudulent")],
)
def test_the_dashboard_closes_a_review_with_a_refund(
    client: stripe.StripeClient,
    emu: StripeEmulator,
    action: str,
    closed_reason: str,
    refund_reason: str | None,
) -> None:
    intent = pay(client, "pm_card_riskLevelElevated")

    response = control(emu, f"reviews/{intent.review}/close", {"action": action})

    assert response.status == 200
    assert (response.json()["open"], response.json()["closed_reason"]) == (False, closed_reason)
    [refund] = client.v1.refunds.list(params={"payment_intent": intent.id}).data
    assert (refund.amount, refund.reason) == (2000, refund_reason)
    types = [event["type"] for event in emu.events()][-3:]
    assert types == ["refund.created", "charge.refunded", "review.closed"]


def test_refunds_disputes_and_cancellations_close_reviews(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    refunded = pay(client, "pm_card_riskLevelElevated")
    disputed = pay(client, "pm_card_riskLevelElevated")
    held = pay(client, "pm_card_riskLevelElevated", capture_method="manual")

    client.v1.refunds.create(params={"payment_intent": refunded.id, "amount": 500, "reason": "fraudulent"})
    emu.create_dispute(disputed.id)
    client.v1.payment_intents.cancel(held.id)

    reasons = {review["payment_intent"]: review["closed_reason"] for review in emu.reviews()}
    assert reasons == {refunded.id: "refunded_as_fraud", disputed.id: "disputed", held.id: "canceled"}
    assert held.status == "requires_capture"  # a manual capture is reviewed at authorization


@pytest.mark.parametrize(
    ("path", "payload", "status", "param"),
    [
        ("reviews/prv_missing/close", {}, 404, "review"),
        ("reviews/prv_missing/close", {"action": "maybe"}, 400, "action"),
        ("early_fraud_warnings", {}, 400, "charge"),
        ("early_fraud_warnings", {"charge": "ch_missing"}, 404, "charge"),
        ("settings", {"review_elevated_risk": "no"}, 400, "review_elevated_risk"),
    ],
)
def test_control_errors(
    emu: StripeEmulator, path: str, payload: dict[str, Any], status: int, param: str
) -> None:
    response = control(emu, path, payload)

    assert (response.status, response.json()["error"]["param"]) == (status, param)


def test_a_closed_review_cannot_be_closed_again(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    intent = pay(client, "pm_card_riskLevelElevated")
    emu.close_review(str(intent.review))

    again = control(emu, f"reviews/{intent.review}/close", {"action": "refund"})

    assert again.status == 400
    assert client.v1.refunds.list(params={"payment_intent": intent.id}).data == []


# --------------------------------------------------------------------------- early fraud warnings


def test_the_warning_card_gets_an_early_fraud_warning_after_the_charge(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    intent = pay(client, "pm_card_createIssuerFraudRecord")

    [warning] = client.v1.radar.early_fraud_warnings.list(params={"payment_intent": intent.id}).data
    assert warning.id.startswith("issfr_")
    assert (warning.actionable, warning.fraud_type, warning.livemode) == (
        True,
        "made_with_stolen_card",
        False,
    )
    assert (warning.charge, warning.payment_intent) == (intent.latest_charge, intent.id)
    assert client.v1.radar.early_fraud_warnings.retrieve(warning.id).id == warning.id
    by_charge = client.v1.radar.early_fraud_warnings.list(params={"charge": str(intent.latest_charge)})
    assert [w.id for w in by_charge.data] == [warning.id]
    types = [event["type"] for event in emu.events()]
    assert types[-2:] == ["payment_intent.succeeded", "radar.early_fraud_warning.created"]
    assert emu.events("radar.early_fraud_warning.created")[0]["request"] == {
        "id": None,
        "idempotency_key": None,
    }
    expanded = client.v1.radar.early_fraud_warnings.retrieve(warning.id, params={"expand": ["charge"]})
    assert isinstance(expanded.charge, stripe.Charge)
    assert outcome(client, intent)["risk_level"] == "normal"


def test_a_held_payment_is_warned_about_when_captured(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    intent = pay(client, "pm_card_createIssuerFraudRecord", capture_method="manual")
    assert emu.early_fraud_warnings() == []

    client.v1.payment_intents.capture(intent.id)

    assert [w["payment_intent"] for w in emu.early_fraud_warnings()] == [intent.id]


def test_a_full_refund_or_a_dispute_makes_the_warning_not_actionable(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    refunded = pay(client, "pm_card_createIssuerFraudRecord")
    disputed = pay(client, "pm_card_createIssuerFraudRecord")

    client.v1.refunds.create(params={"payment_intent": refunded.id, "amount": 500})
    partly = {w["payment_intent"]: w["actionable"] for w in emu.early_fraud_warnings()}
    client.v1.refunds.create(params={"payment_intent": refunded.id})
    emu.create_dispute(disputed.id)

    assert partly == {refunded.id: True, disputed.id: True}
    assert {w["payment_intent"]: w["actionable"] for w in emu.early_fraud_warnings()} == {
        refunded.id: False,
        disputed.id: False,
    }
    updates = emu.events("radar.early_fraud_warning.updated")
    assert [u["data"]["previous_attributes"] for u in updates] == [{"actionable": True}] * 2


def test_the_control_api_warns_about_any_succeeded_charge(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    intent = pay(client)
    emu.dashboard_refund(intent.id)
    failed = declined(client, "pm_card_chargeDeclined").error.payment_intent  # type: ignore[union-attr]
    assert failed is not None

    created = control(emu, "early_fraud_warnings", {"payment_intent": intent.id, "fraud_type": "misc"})
    again = control(emu, "early_fraud_warnings", {"charge": str(intent.latest_charge)})
    on_a_failure = control(emu, "early_fraud_warnings", {"charge": str(failed.latest_charge)})
    bad_type = control(emu, "early_fraud_warnings", {"payment_intent": intent.id, "fraud_type": "bad"})

    assert created.status == 200
    assert (created.json()["fraud_type"], created.json()["actionable"]) == ("misc", False)  # refunded already
    assert (again.status, on_a_failure.status) == (400, 400)
    assert (bad_type.status, bad_type.json()["error"]["param"]) == (400, "fraud_type")


def test_lists_page_and_filter_like_other_lists(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    intents = [pay(client, "pm_card_createIssuerFraudRecord") for _ in range(3)]

    first = client.v1.radar.early_fraud_warnings.list(params={"limit": 2})
    rest = client.v1.radar.early_fraud_warnings.list(params={"limit": 2, "starting_after": first.data[-1].id})
    unknown = raw_request(emu.url, "GET", "/v1/radar/early_fraud_warnings?colour=red")

    assert [w.payment_intent for w in [*first.data, *rest.data]] == [i.id for i in reversed(intents)]
    assert (first.has_more, rest.has_more) == (True, False)
    assert unknown.status == 400


def test_the_warning_can_come_before_the_success_and_twice(receiver: Receiver) -> None:
    """Chaos delivery reorders and duplicates Radar's events like any other."""
    orders = []
    for seed in range(40):
        chaos = WebhookChaos(seed=seed, duplicates=1.0, max_delay_ms=5, reorder=True)
        with StripeEmulator(
            webhook_endpoints=[(receiver.url, "whsec_radar")], webhook_chaos=chaos
        ) as emulator:
            receiver.deliveries.clear()
            pay(make_client(emulator), "pm_card_createIssuerFraudRecord")
            assert emulator.wait_for_webhooks(timeout=10)
            types = [event["type"] for event in receiver.events()]
        assert Counter(types)["radar.early_fraud_warning.created"] == 2
        orders.append(
            types.index("radar.early_fraud_warning.created") < types.index("payment_intent.succeeded")
        )
        if len(set(orders)) == 2:
            return
    pytest.fail("no seed delivered the warning both before and after the payment's success")
