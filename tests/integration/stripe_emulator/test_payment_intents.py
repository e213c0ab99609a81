"""PaymentIntents: success, declines, 3-D Secure, manual capture, cancel and update rules."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator

from .conftest import as_dict, control, pay, raw_request


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_NO_REDIRECTS = urllib.request.build_opener(urllib.request.ProxyHandler({}), _KeepRedirects)


def _types(emu: StripeEmulator) -> list[str]:
    return [event["type"] for event in emu.events()]


def test_automatic_payment_succeeds_with_a_captured_charge_and_fees(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    intent = pay(client, metadata={"order_id": "o-1"}, description="Order o-1")
    emu.settle_balance_transactions(intent.id)  # the default capture_method is automatic_async

    charge = client.v1.charges.retrieve(str(intent.latest_charge))
    transaction = client.v1.balance_transactions.retrieve(str(charge.balance_transaction))
    assert intent.status == "succeeded"
    assert (intent.amount_received, intent.amount_capturable) == (2000, 0)
    assert intent.client_secret is not None
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert intent.capture_method == "automatic_async"
    assert (charge.status, charge.paid, charge.captured, charge.amount_captured) == (
        "succeeded",
        True,
        True,
        2000,
    )
    assert charge.payment_intent == intent.id
    assert charge.payment_method == intent.payment_method
    assert as_dict(charge.metadata) == {"order_id": "o-1"}
    assert charge.outcome is not None
    assert charge.outcome.network_status == "approved_by_network"
    assert charge.payment_method_details is not None
    assert charge.payment_method_details.card is not None
    assert (charge.payment_method_details.card.brand, charge.payment_method_details.card.last4) == (
        "visa",
        "4242",
    )
    # 2.9% of 2000 = 58, plus 30.
    assert (transaction.amount, transaction.fee, transaction.net, transaction.type) == (
        2000,
        88,
        1912,
        "charge",
    )
    assert transaction.source == charge.id
    assert transaction.status == "available"
    assert _types(emu) == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "charge.updated",
    ]


@pytest.mark.parametrize(
    ("test_id", "code", "decline_code", "message"),
    [
        ("pm_card_chargeDeclined", "card_declined", "generic_decline", "Your card was declined."),
        (
            "pm_card_chargeDeclinedInsufficientFunds",
            "card_declined",
            "insufficient_funds",
            "Your card has insufficient funds.",
        ),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card", "Your card has expired."),
        ("pm_card_chargeDeclinedFraudulent", "card_declined", "fraudulent", "Your card was declined."),
        (
            "pm_card_chargeDeclinedIncorrectCvc",
            "incorrect_cvc",
            "incorrect_cvc",
            "Your card's security code is incorrect.",
        ),
    ],
)
def test_declines_are_card_errors_with_the_payment_intent_embedded(
    client: stripe.StripeClient, emu: StripeEmulator, test_id: str, code: str, decline_code: str, message: str
) -> None:
    with pytest.raises(stripe.CardError) as raised:
        pay(client, test_id)

    error = raised.value
    assert (error.http_status, error.code, error.user_message) == (402, code, message)
    assert error.error is not None
    assert error.error.decline_code == decline_code
    embedded = error.error.payment_intent
    assert embedded is not None
    assert embedded.status == "requires_payment_method"
    [intent] = emu.payment_intents()
    assert intent["id"] == embedded.id
    assert intent["payment_method"] is None  # Stripe detaches the failed method
    assert intent["last_payment_error"]["code"] == code
    assert intent["last_payment_error"]["decline_code"] == decline_code
    assert intent["last_payment_error"]["payment_method"]["card"]["brand"] == "visa"
    [charge] = emu.charges()
    assert (charge["status"], charge["paid"], charge["failure_code"]) == ("failed", False, code)
    assert charge["id"] == intent["latest_charge"] == error.error.charge
    assert charge["balance_transaction"] is None
    assert _types(emu) == ["payment_intent.created", "charge.failed", "payment_intent.payment_failed"]


def test_a_declined_intent_can_be_retried_with_another_card(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.CardError) as raised:
        pay(client, "pm_card_chargeDeclined")
    assert raised.value.error is not None
    assert raised.value.error.payment_intent is not None

    retried = client.v1.payment_intents.confirm(
        raised.value.error.payment_intent.id, params={"payment_method": "pm_card_visa"}
    )

    assert retried.status == "succeeded"
    assert retried.last_payment_error is None


def test_create_then_confirm(client: stripe.StripeClient) -> None:
    created = client.v1.payment_intents.create(params={"amount": 1500, "currency": "eur"})
    with_method = client.v1.payment_intents.update(
        created.id, params={"payment_method": "pm_card_mastercard"}
    )
    confirmed = client.v1.payment_intents.confirm(created.id)

    assert created.status == "requires_payment_method"
    assert created.automatic_payment_methods is not None
    assert created.automatic_payment_methods.enabled is True
    assert with_method.status == "requires_confirmation"
    assert confirmed.status == "succeeded"


def test_confirming_without_a_payment_method_is_an_unexpected_state(client: stripe.StripeClient) -> None:
    created = client.v1.payment_intents.create(params={"amount": 1500, "currency": "usd"})

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.confirm(created.id)

    assert raised.value.code == "payment_intent_unexpected_state"


def test_three_d_secure_success_without_return_url(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    intent = pay(client, "pm_card_authenticationRequired")

    assert intent.status == "requires_action"
    assert intent.next_action is not None
    assert intent.next_action.type == "use_stripe_sdk"
    assert emu.charges() == []
    authenticated = emu.authenticate_payment_intent(intent.id)

    assert authenticated["status"] == "succeeded"
    assert authenticated["next_action"] is None
    charge = client.v1.charges.retrieve(authenticated["latest_charge"])
    assert charge.payment_method_details is not None
    assert charge.payment_method_details.card is not None
    assert charge.payment_method_details.card.three_d_secure is not None
    assert _types(emu) == [
        "payment_intent.created",
        "payment_intent.requires_action",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]


def test_three_d_secure_redirect_page_completes_and_returns(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    intent = pay(client, "pm_card_authenticationRequired", return_url="https://shop.example/return?x=1")

    assert intent.next_action is not None
    assert intent.next_action.type == "redirect_to_url"
    redirect = intent.next_action.redirect_to_url
    assert redirect is not None
    assert redirect.return_url == "https://shop.example/return?x=1"
    assert redirect.url is not None
    assert redirect.url.startswith(emu.url)
    page = raw_request(emu.url, "GET", redirect.url.removeprefix(emu.url), api_key=None)
    assert page.status == 200
    assert b"outcome=succeed" in page.body

    with pytest.raises(urllib.error.HTTPError) as raised:  # the redirect itself is the answer
        _NO_REDIRECTS.open(f"{redirect.url}?outcome=succeed", timeout=5)

    assert raised.value.code == 302
    location = raised.value.headers["Location"]
    assert location.startswith("https://shop.example/return?x=1&payment_intent=" + intent.id)
    assert "redirect_status=succeeded" in location
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_three_d_secure_failure(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    intent = pay(client, "pm_card_authenticationRequired")

    response = control(emu, f"payment_intents/{intent.id}/authenticate", {"outcome": "fail"})

    assert response.status == 200
    failed = client.v1.payment_intents.retrieve(intent.id)
    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error is not None
    assert failed.last_payment_error.code == "payment_intent_authentication_failure"
    assert failed.payment_method is None
    assert emu.charges() == []
    assert _types(emu)[-1] == "payment_intent.payment_failed"


def test_authenticating_an_intent_that_needs_no_action_is_rejected(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    intent = pay(client)

    response = control(emu, f"payment_intents/{intent.id}/authenticate", {"outcome": "succeed"})

    assert response.status == 400
    assert response.json()["error"]["code"] == "payment_intent_unexpected_state"


def test_manual_confirmation_needs_a_second_confirm_after_three_d_secure(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    intent = pay(client, "pm_card_authenticationRequired", confirmation_method="manual")

    after_auth = emu.authenticate_payment_intent(intent.id)
    confirmed = client.v1.payment_intents.confirm(intent.id)

    assert after_auth["status"] == "requires_confirmation"
    assert confirmed.status == "succeeded"


def test_off_session_payments_needing_authentication_are_declined(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    method = client.v1.payment_methods.attach(
        "pm_card_authenticationRequired", params={"customer": customer.id}
    )

    with pytest.raises(stripe.CardError) as raised:
        pay(client, method.id, customer=customer.id, off_session=True)

    assert raised.value.code == "authentication_required"
    assert raised.value.error is not None
    assert raised.value.error.payment_intent is not None
    assert raised.value.error.payment_intent.status == "requires_payment_method"


def test_manual_capture(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    intent = pay(client, capture_method="manual")
    charge_before = client.v1.charges.retrieve(str(intent.latest_charge))

    captured = client.v1.payment_intents.capture(intent.id)

    charge = client.v1.charges.retrieve(str(intent.latest_charge))
    assert (intent.status, intent.amount_capturable) == ("requires_capture", 2000)
    assert (charge_before.captured, charge_before.balance_transaction) == (False, None)
    assert (captured.status, captured.amount_received, captured.amount_capturable) == ("succeeded", 2000, 0)
    assert (charge.captured, charge.amount_captured) == (True, 2000)
    assert charge.balance_transaction is not None
    assert _types(emu) == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.amount_capturable_updated",
        "charge.captured",
        "payment_intent.succeeded",
    ]


def test_partial_capture_releases_the_rest(client: stripe.StripeClient) -> None:
    intent = pay(client, capture_method="manual")

    captured = client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 1500})

    charge = client.v1.charges.retrieve(str(intent.latest_charge), params={"expand": ["balance_transaction"]})
    assert captured.amount_received == 1500
    assert (charge.amount, charge.amount_captured, charge.amount_refunded, charge.refunded) == (
        2000,
        1500,
        500,
        False,
    )
    assert isinstance(charge.balance_transaction, stripe.BalanceTransaction)
    assert charge.balance_transaction.amount == 1500


def test_capturing_more_than_capturable_fails(client: stripe.StripeClient) -> None:
    intent = pay(client, capture_method="manual")

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 2001})

    assert raised.value.param == "amount_to_capture"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"


def test_capture_outside_requires_capture_is_an_unexpected_state(client: stripe.StripeClient) -> None:
    intent = pay(client)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.capture(intent.id)

    assert raised.value.code == "payment_intent_unexpected_state"
    assert raised.value.error is not None
    assert raised.value.error.payment_intent is not None
    assert raised.value.error.payment_intent.id == intent.id


@pytest.mark.parametrize("confirm", [False, True])
def test_open_intents_can_be_canceled(
    client: stripe.StripeClient, emu: StripeEmulator, confirm: bool
) -> None:
    if confirm:
        intent = pay(client, "pm_card_authenticationRequired")  # requires_action
    else:
        intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})

    canceled = client.v1.payment_intents.cancel(intent.id, params={"cancellation_reason": "abandoned"})

    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "abandoned")
    assert canceled.canceled_at is not None
    assert _types(emu)[-1] == "payment_intent.canceled"


def test_canceling_an_authorisation_releases_the_charge(client: stripe.StripeClient) -> None:
    intent = pay(client, capture_method="manual")

    canceled = client.v1.payment_intents.cancel(intent.id)

    charge = client.v1.charges.retrieve(str(intent.latest_charge))
    assert (canceled.status, canceled.amount_capturable) == ("canceled", 0)
    assert (charge.refunded, charge.amount_refunded, charge.captured) == (True, 2000, False)


@pytest.mark.parametrize("second_action", ["cancel", "confirm"])
def test_finished_intents_cannot_be_canceled_or_confirmed(
    client: stripe.StripeClient, second_action: str
) -> None:
    intent = pay(client)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        getattr(client.v1.payment_intents, second_action)(intent.id)

    assert raised.value.code == "payment_intent_unexpected_state"
    assert "because it has a status of succeeded" in str(raised.value.user_message)


def test_update_metadata_and_amount(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    intent = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd", "metadata": {"a": "1"}}
    )

    updated = client.v1.payment_intents.update(
        intent.id, params={"amount": 1200, "metadata": {"b": "2"}, "description": "changed"}
    )
    paid = client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.update(intent.id, params={"amount": 5000})
    after = client.v1.payment_intents.update(intent.id, params={"metadata": {"c": "3"}})

    assert (updated.amount, updated.description) == (1200, "changed")
    assert as_dict(updated.metadata) == {"a": "1", "b": "2"}
    assert paid.amount_received == 1200
    assert as_dict(after.metadata) == {"a": "1", "b": "2", "c": "3"}
    assert "payment_intent.updated" not in _types(emu)  # Stripe has no such event


def test_payment_method_types_and_automatic_methods_are_exclusive(emu: StripeEmulator) -> None:
    # `payment_method_types` is the pre-`allowed_payment_method_types` parameter; the typed SDK
    # params no longer offer it, so it is sent by hand.
    explicit = raw_request(
        emu.url, "POST", "/v1/payment_intents", body="amount=1000&currency=usd&payment_method_types[]=card"
    )
    both = raw_request(
        emu.url,
        "POST",
        "/v1/payment_intents",
        body="amount=1000&currency=usd&payment_method_types[0]=card&automatic_payment_methods[enabled]=true",
    )

    assert explicit.json()["payment_method_types"] == ["card"]
    assert explicit.json()["automatic_payment_methods"] is None
    assert both.status == 400
    assert both.json()["error"]["code"] == "parameters_exclusive"


def test_allowed_payment_method_types_must_include_card(client: stripe.StripeClient) -> None:
    allowed = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd", "allowed_payment_method_types": ["card", "link"]}
    )
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "usd", "allowed_payment_method_types": ["us_bank_account"]}
        )

    assert allowed.allowed_payment_method_types == ["card", "link"]
    assert allowed.payment_method_types == ["card"]
    assert raised.value.param == "allowed_payment_method_types"


def test_list_payment_intents_by_customer(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    mine = pay(client, customer=customer.id)
    pay(client)

    listed = client.v1.payment_intents.list(params={"customer": customer.id})

    assert [intent.id for intent in listed.data] == [mine.id]
