"""Declining cards at attach, confirming a failed PaymentIntent again, and what cancel allows."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator

from .conftest import control, pay

DECLINES_AT_ATTACH = [
    ("pm_card_chargeDeclined", "card_declined", "generic_decline", None),
    ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds", None),
    ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card", "exp_month"),
    ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "incorrect_cvc", "cvc"),
    ("pm_card_chargeDeclinedProcessingError", "processing_error", "processing_error", None),
    ("pm_card_chargeDeclinedFraudulent", "card_declined", "fraudulent", None),
]


def _declined_intent(
    client: stripe.StripeClient, card: str = "pm_card_chargeDeclined"
) -> stripe.PaymentIntent:
    with pytest.raises(stripe.CardError) as raised:
        pay(client, card)
    assert raised.value.error is not None
    assert raised.value.error.payment_intent is not None
    return raised.value.error.payment_intent


@pytest.mark.parametrize(("card", "code", "decline_code", "param"), DECLINES_AT_ATTACH)
def test_declining_cards_cannot_be_attached(
    client: stripe.StripeClient,
    emu: StripeEmulator,
    card: str,
    code: str,
    decline_code: str,
    param: str | None,
) -> None:
    customer = client.v1.customers.create()

    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_methods.attach(card, params={"customer": customer.id})

    error = raised.value
    assert (error.http_status, error.code, error.param) == (402, code, param)
    assert error.error is not None
    assert error.error.type == "card_error"
    assert error.error.decline_code == decline_code
    assert error.error.payment_intent is None
    assert error.error.charge is None
    assert [pm["customer"] for pm in emu.payment_methods()] == [None]
    assert emu.charges() == []
    assert emu.events("payment_method.*") == []


def test_a_customer_created_with_a_declining_card_is_not_created(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    with pytest.raises(stripe.CardError) as raised:
        client.v1.customers.create(params={"payment_method": "pm_card_chargeDeclinedInsufficientFunds"})

    assert raised.value.error is not None
    assert raised.value.error.decline_code == "insufficient_funds"
    assert emu.customers() == []
    assert emu.events() == []


def test_charge_customer_fail_attaches_then_declines(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    customer = client.v1.customers.create()
    method = client.v1.payment_methods.attach("pm_card_chargeCustomerFail", params={"customer": customer.id})

    with pytest.raises(stripe.CardError) as raised:
        pay(client, method.id, customer=customer.id, off_session=True)

    assert method.customer == customer.id
    assert method.card is not None
    assert method.card.last4 == "0341"
    assert raised.value.code == "card_declined"
    assert raised.value.error is not None
    assert raised.value.error.decline_code == "generic_decline"
    assert raised.value.error.payment_intent is not None
    assert raised.value.error.payment_intent.status == "requires_payment_method"
    assert [charge["status"] for charge in emu.charges()] == ["failed"]


def test_after_failed_three_d_secure_another_card_can_be_confirmed(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    intent = pay(client, "pm_card_authenticationRequired", return_url="https://shop.example/back")
    emu.authenticate_payment_intent(intent.id, succeed=False)
    failed = client.v1.payment_intents.retrieve(intent.id)

    retried = client.v1.payment_intents.confirm(
        intent.id, params={"payment_method": "pm_card_visa", "return_url": "https://shop.example/back"}
    )

    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error is not None  # kept after the failed attempt
    assert failed.last_payment_error.code == "payment_intent_authentication_failure"
    assert retried.status == "succeeded"
    assert retried.last_payment_error is None
    assert retried.amount_received == 2000


def test_after_a_decline_the_next_card_can_ask_for_three_d_secure(client: stripe.StripeClient) -> None:
    declined = _declined_intent(client)

    retried = client.v1.payment_intents.confirm(
        declined.id,
        params={"payment_method": "pm_card_authenticationRequired", "return_url": "https://shop.example/3ds"},
    )

    assert declined.last_payment_error is not None
    assert retried.status == "requires_action"
    assert retried.last_payment_error is None  # cleared by the new confirmation
    assert retried.next_action is not None
    assert retried.next_action.redirect_to_url is not None
    assert retried.next_action.redirect_to_url.return_url == "https://shop.example/3ds"


def test_a_second_decline_replaces_the_last_payment_error(client: stripe.StripeClient) -> None:
    declined = _declined_intent(client)

    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.confirm(
            declined.id, params={"payment_method": "pm_card_chargeDeclinedExpiredCard"}
        )
    intent = client.v1.payment_intents.retrieve(declined.id)

    assert raised.value.code == "expired_card"
    assert intent.last_payment_error is not None
    assert (intent.last_payment_error.code, intent.last_payment_error.decline_code) == (
        "expired_card",
        "expired_card",
    )
    assert intent.payment_method is None


def test_an_update_clears_the_last_payment_error(client: stripe.StripeClient) -> None:
    declined = _declined_intent(client)

    updated = client.v1.payment_intents.update(declined.id, params={"metadata": {"attempt": "2"}})

    assert updated.last_payment_error is None
    assert updated.status == "requires_payment_method"


def _requires_payment_method(client: stripe.StripeClient) -> str:
    return _declined_intent(client).id


def _requires_confirmation(client: stripe.StripeClient) -> str:
    return client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd", "payment_method": "pm_card_visa"}
    ).id


def _requires_action(client: stripe.StripeClient) -> str:
    return pay(client, "pm_card_authenticationRequired").id


def _requires_capture(client: stripe.StripeClient) -> str:
    return pay(client, capture_method="manual").id


@pytest.mark.parametrize(
    "make", [_requires_payment_method, _requires_confirmation, _requires_action, _requires_capture]
)
def test_open_intents_can_be_canceled(
    client: stripe.StripeClient, make: Callable[[stripe.StripeClient], str]
) -> None:
    intent_id = make(client)

    canceled = client.v1.payment_intents.cancel(intent_id)

    assert canceled.status == "canceled"


@pytest.mark.parametrize("status", ["succeeded", "canceled"])
def test_finished_intents_cannot_be_canceled(client: stripe.StripeClient, status: str) -> None:
    intent = pay(client)
    if status == "canceled":
        intent = client.v1.payment_intents.cancel(_requires_confirmation(client))

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.cancel(intent.id)

    assert (raised.value.http_status, raised.value.code) == (400, "payment_intent_unexpected_state")
    assert str(raised.value.user_message) == (
        f"You cannot cancel this PaymentIntent because it has a status of {status}. Only a PaymentIntent "
        "with one of the following statuses may be canceled: requires_payment_method, requires_capture, "
        "requires_confirmation, requires_action, processing."
    )


@pytest.mark.parametrize("with_method", [False, True])
def test_a_canceled_intent_cannot_be_confirmed(client: stripe.StripeClient, with_method: bool) -> None:
    intent = client.v1.payment_intents.cancel(_requires_confirmation(client))
    params: stripe.params.PaymentIntentConfirmParams = (
        {"payment_method": "pm_card_visa"} if with_method else {}
    )

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.confirm(intent.id, params=params)

    assert (raised.value.http_status, raised.value.code) == (400, "payment_intent_unexpected_state")
    assert "because it has a status of canceled" in str(raised.value.user_message)
    assert raised.value.error is not None
    assert raised.value.error.payment_intent is not None
    assert raised.value.error.payment_intent.status == "canceled"


def test_three_d_secure_control_rejects_a_canceled_intent(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    intent = client.v1.payment_intents.cancel(_requires_action(client))

    response = control(emu, f"payment_intents/{intent.id}/authenticate", {"outcome": "succeed"})

    assert (response.status, response.json()["error"]["code"]) == (400, "payment_intent_unexpected_state")
