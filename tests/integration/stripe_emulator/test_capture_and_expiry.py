"""Partial capture and its release, the refund cap that follows, and authorizations that expire
uncaptured (the control API's stand-in for Stripe's 7 days)."""

from __future__ import annotations

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator

from .conftest import control, pay


def _types(emu: StripeEmulator) -> list[str]:
    return [event["type"] for event in emu.events()]


def test_a_partial_capture_captures_part_and_releases_the_rest(
    client: stripe.StripeClient, emu: StripeEmulator
):
    intent = pay(client, capture_method="manual", amount=10_000)

    captured = client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 6_000})

    charge = client.v1.charges.retrieve(str(intent.latest_charge), params={"expand": ["balance_transaction"]})
    assert (captured.status, captured.amount, captured.amount_received, captured.amount_capturable) == (
        "succeeded",
        10_000,
        6_000,
        0,
    )
    assert (charge.amount, charge.amount_captured, charge.amount_refunded, charge.captured) == (
        10_000,
        6_000,
        4_000,
        True,
    )
    assert isinstance(charge.balance_transaction, stripe.BalanceTransaction)
    assert (charge.balance_transaction.amount, charge.balance_transaction.fee) == (6_000, 204)
    assert _types(emu)[-2:] == ["charge.captured", "payment_intent.succeeded"]


def test_refunds_after_a_partial_capture_take_at_most_what_was_captured(client: stripe.StripeClient):
    intent = pay(client, capture_method="manual", amount=10_000)
    client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 6_000})

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 6_001})
    everything = client.v1.refunds.create(params={"payment_intent": intent.id})

    assert (too_much.value.code, too_much.value.param) == ("amount_too_large", "amount")
    assert everything.amount == 6_000
    charge = client.v1.charges.retrieve(str(intent.latest_charge))
    assert (charge.amount_refunded, charge.refunded) == (10_000, True)
    with pytest.raises(stripe.InvalidRequestError) as nothing_left:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1})
    assert nothing_left.value.code == "charge_already_refunded"


@pytest.mark.parametrize("amount", [0, -5])
def test_a_capture_of_nothing_is_a_parameter_error(client: stripe.StripeClient, amount: int):
    intent = pay(client, capture_method="manual")

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": amount})

    assert raised.value.param == "amount_to_capture"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"


def test_an_authorization_expires_canceled_automatically_and_released(
    client: stripe.StripeClient, emu: StripeEmulator
):
    intent = pay(client, capture_method="manual", amount=10_000)

    answer = control(emu, f"payment_intents/{intent.id}/expire")

    assert answer.status == 200
    expired = client.v1.payment_intents.retrieve(intent.id)
    assert (expired.status, expired.cancellation_reason, expired.amount_capturable) == (
        "canceled",
        "automatic",
        0,
    )
    assert expired.canceled_at is not None
    assert answer.json()["cancellation_reason"] == "automatic"
    charge = client.v1.charges.retrieve(str(intent.latest_charge))
    assert (charge.captured, charge.refunded, charge.amount_refunded, charge.balance_transaction) == (
        False,
        True,
        10_000,
        None,
    )
    assert _types(emu)[-2:] == ["charge.expired", "payment_intent.canceled"]
    canceled = emu.events("payment_intent.canceled")[-1]
    assert canceled["request"] == {"id": None, "idempotency_key": None}  # Stripe did it, not a request
    assert emu.balance_transactions() == []  # an authorization moves no money


def test_an_expired_authorization_cannot_be_captured(client: stripe.StripeClient, emu: StripeEmulator):
    intent = pay(client, capture_method="manual")
    emu.expire_authorization(intent.id)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.capture(intent.id)

    assert raised.value.code == "payment_intent_unexpected_state"


@pytest.mark.parametrize("how", ["automatic", "captured", "canceled"])
def test_only_a_held_authorization_can_expire(client: stripe.StripeClient, emu: StripeEmulator, how: str):
    intent = pay(client, capture_method="automatic" if how == "automatic" else "manual")
    if how == "captured":
        client.v1.payment_intents.capture(intent.id)
    if how == "canceled":
        client.v1.payment_intents.cancel(intent.id)

    answer = control(emu, f"payment_intents/{intent.id}/expire")

    assert answer.status == 400
    assert answer.json()["error"]["param"] == "payment_intent"


def test_expiring_an_unknown_intent_is_a_404(emu: StripeEmulator):
    answer = control(emu, "payment_intents/pi_nosuchintent/expire")

    assert answer.status in (400, 404)
    assert answer.json()["error"]["code"] == "resource_missing"
