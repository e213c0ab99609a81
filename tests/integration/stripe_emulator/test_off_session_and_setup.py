"""Cards saved for off-session use (SetupIntents), off-session payments that need the customer's
authentication (declined `authentication_required`, the intent back in requires_payment_method), and the
customer bringing such an intent back on-session with its client_secret and a publishable key."""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator

from .conftest import control, pay


def _types(emu: StripeEmulator, prefix: str = "") -> list[str]:
    return [event["type"] for event in emu.events() if event["type"].startswith(prefix)]


def browser(emu: StripeEmulator) -> stripe.StripeClient:
    """What Stripe.js does in the customer's browser: a publishable key and the intent's client_secret."""
    return stripe.StripeClient("pk_test_emulator", base_addresses={"api": emu.url}, max_network_retries=0)


def set_up(client: stripe.StripeClient, card: str, **params: Any) -> tuple[str, stripe.SetupIntent]:
    customer = client.v1.customers.create()
    setup = client.v1.setup_intents.create(
        params={
            "customer": customer.id,
            "payment_method": card,
            "confirm": True,
            "usage": "off_session",
            **params,
        }
    )
    return customer.id, setup


def off_session(client: stripe.StripeClient, customer: str, method: str, amount: int = 2_000) -> Any:
    return pay(client, method, customer=customer, off_session=True, amount=amount)


# --------------------------------------------------------------------------- SetupIntents


def test_a_card_set_up_without_a_challenge_pays_off_session(client: stripe.StripeClient, emu: StripeEmulator):
    customer, setup = set_up(client, "pm_card_visa")

    assert (setup.status, setup.usage, setup.customer, setup.next_action) == (
        "succeeded",
        "off_session",
        customer,
        None,
    )
    assert setup.id.startswith("seti_")
    assert setup.client_secret.startswith(f"{setup.id}_secret_")
    method = client.v1.payment_methods.retrieve(str(setup.payment_method))
    assert method.customer == customer  # attached on success
    assert _types(emu, "setup_intent.") == ["setup_intent.created", "setup_intent.succeeded"]
    assert off_session(client, customer, method.id).status == "succeeded"


def test_usage_defaults_to_off_session_and_on_session_is_kept(client: stripe.StripeClient):
    customer = client.v1.customers.create()
    default = client.v1.setup_intents.create(params={"customer": customer.id})
    on_session = client.v1.setup_intents.create(params={"customer": customer.id, "usage": "on_session"})

    assert (default.usage, default.status) == ("off_session", "requires_payment_method")
    assert on_session.usage == "on_session"


@pytest.mark.parametrize("card", ["pm_card_authenticationRequiredOnSetup", "pm_card_authenticationRequired"])
def test_setting_up_a_3ds_card_asks_for_authentication(
    client: stripe.StripeClient, emu: StripeEmulator, card: str
):
    customer, setup = set_up(client, card)

    assert setup.status == "requires_action"
    assert setup.next_action is not None
    assert setup.next_action.type == "use_stripe_sdk"
    assert client.v1.payment_methods.retrieve(str(setup.payment_method)).customer is None  # not yet
    done = control(emu, f"setup_intents/{setup.id}/authenticate", {"outcome": "succeed"}).json()

    assert (done["status"], done["next_action"]) == ("succeeded", None)
    assert client.v1.payment_methods.retrieve(str(setup.payment_method)).customer == customer
    assert _types(emu, "setup_intent.") == [
        "setup_intent.created",
        "setup_intent.requires_action",
        "setup_intent.succeeded",
    ]


def test_a_failed_setup_challenge_lets_the_card_go(client: stripe.StripeClient, emu: StripeEmulator):
    _, setup = set_up(client, "pm_card_authenticationRequiredOnSetup")

    failed = emu.authenticate_setup_intent(setup.id, succeed=False)

    assert (failed["status"], failed["payment_method"]) == ("requires_payment_method", None)
    assert failed["last_setup_error"]["code"] == "setup_intent_authentication_failure"
    assert _types(emu, "setup_intent.")[-1] == "setup_intent.setup_failed"


def test_the_setup_challenge_page_redirects_back_with_the_setup_intent(
    client: stripe.StripeClient, emu: StripeEmulator
):
    _, setup = set_up(client, "pm_card_authenticationRequired", return_url="https://shop.example/saved")
    assert setup.next_action is not None
    assert setup.next_action.type == "redirect_to_url"
    page = setup.next_action.redirect_to_url.url

    class _Keep(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _Keep)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(f"{page}?outcome=succeed")

    assert redirect.value.code == 302
    location = redirect.value.headers["Location"]
    assert location.startswith("https://shop.example/saved?setup_intent=" + setup.id)
    assert f"setup_intent_client_secret={setup.client_secret}" in location
    assert "redirect_status=succeeded" in location
    assert client.v1.setup_intents.retrieve(setup.id).status == "succeeded"


def test_a_declining_card_fails_setup_with_a_card_error(client: stripe.StripeClient, emu: StripeEmulator):
    customer = client.v1.customers.create()

    with pytest.raises(stripe.CardError) as raised:
        client.v1.setup_intents.create(
            params={"customer": customer.id, "payment_method": "pm_card_chargeDeclined", "confirm": True}
        )

    assert (raised.value.code, raised.value.error.decline_code) == ("card_declined", "generic_decline")
    setup = raised.value.error.setup_intent
    assert setup is not None
    assert (setup.status, setup.last_setup_error.code) == ("requires_payment_method", "card_declined")
    assert _types(emu, "setup_intent.")[-1] == "setup_intent.setup_failed"


def test_an_open_setup_can_be_canceled_a_finished_one_not(client: stripe.StripeClient, emu: StripeEmulator):
    _, pending = set_up(client, "pm_card_authenticationRequired")
    _, done = set_up(client, "pm_card_visa")

    canceled = client.v1.setup_intents.cancel(pending.id, params={"cancellation_reason": "abandoned"})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.setup_intents.cancel(done.id)

    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "abandoned")
    assert raised.value.code == "setup_intent_unexpected_state"
    assert [s.id for s in client.v1.setup_intents.list(params={"limit": 10}).data] == [done.id, pending.id]


# --------------------------------------------------------------------------- off-session payments


def test_a_card_set_up_once_pays_off_session_without_a_challenge(
    client: stripe.StripeClient, emu: StripeEmulator
):
    customer, setup = set_up(client, "pm_card_authenticationRequiredOnSetup")
    emu.authenticate_setup_intent(setup.id)

    renewal = off_session(client, customer, str(setup.payment_method))

    assert renewal.status == "succeeded"
    # On-session one-time payments still ask for authentication.
    assert pay(client, str(setup.payment_method), customer=customer).status == "requires_action"


def test_a_card_not_set_up_declines_off_session(client: stripe.StripeClient):
    customer = client.v1.customers.create()
    method = client.v1.payment_methods.attach(
        "pm_card_authenticationRequiredOnSetup", params={"customer": customer.id}
    )

    with pytest.raises(stripe.CardError) as raised:
        off_session(client, customer.id, method.id)

    assert raised.value.code == "authentication_required"


def test_a_payment_that_saved_the_card_for_off_session_use_sets_it_up(
    client: stripe.StripeClient, emu: StripeEmulator
):
    customer = client.v1.customers.create()
    first = pay(
        client,
        "pm_card_authenticationRequiredOnSetup",
        customer=customer.id,
        setup_future_usage="off_session",
    )
    emu.authenticate_payment_intent(first.id)

    method = client.v1.payment_intents.retrieve(first.id).payment_method
    assert off_session(client, customer.id, str(method)).status == "succeeded"


def test_an_off_session_payment_needing_authentication_is_declined_and_waits_for_the_customer(
    client: stripe.StripeClient, emu: StripeEmulator
):
    customer, setup = set_up(client, "pm_card_authenticationRequired")
    emu.authenticate_setup_intent(setup.id)
    method = str(setup.payment_method)

    with pytest.raises(stripe.CardError) as raised:
        off_session(client, customer, method)

    error = raised.value.error
    assert (raised.value.http_status, raised.value.code, error.decline_code) == (
        402,
        "authentication_required",
        "authentication_required",
    )
    intent = error.payment_intent
    assert (intent.status, intent.payment_method, intent.amount_received) == (
        "requires_payment_method",
        None,
        0,
    )
    assert intent.last_payment_error.code == "authentication_required"
    assert intent.last_payment_error.payment_method.id == method
    assert _types(emu, "payment_intent.")[-1] == "payment_intent.payment_failed"

    # The customer comes back: Stripe.js confirms the same intent with its client_secret and the card.
    on_session = browser(emu).v1.payment_intents.confirm(
        intent.id, params={"client_secret": intent.client_secret, "payment_method": method}
    )
    assert on_session.status == "requires_action"
    assert on_session.next_action.type == "use_stripe_sdk"
    emu.authenticate_payment_intent(intent.id)

    paid = client.v1.payment_intents.retrieve(intent.id)
    assert (paid.status, paid.amount_received, paid.last_payment_error) == ("succeeded", 2_000, None)
    assert _types(emu, "payment_intent.")[-2:] == [
        "payment_intent.requires_action",
        "payment_intent.succeeded",
    ]


def test_visa_pays_off_session_even_without_a_setup(client: stripe.StripeClient):
    customer = client.v1.customers.create()
    method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})

    assert off_session(client, customer.id, method.id).status == "succeeded"


# --------------------------------------------------------------------------- publishable keys


def test_a_publishable_key_reads_and_confirms_only_with_the_client_secret(
    client: stripe.StripeClient, emu: StripeEmulator
):
    intent = client.v1.payment_intents.create(params={"amount": 1_000, "currency": "usd"})
    js = browser(emu)

    read = js.v1.payment_intents.retrieve(intent.id, params={"client_secret": intent.client_secret})
    with pytest.raises(stripe.InvalidRequestError) as wrong_secret:
        js.v1.payment_intents.confirm(intent.id, params={"client_secret": "pi_x_secret_nope"})
    with pytest.raises(stripe.InvalidRequestError) as no_secret:
        js.v1.payment_intents.retrieve(intent.id)
    with pytest.raises(stripe.PermissionError) as secret_only:
        js.v1.payment_intents.create(params={"amount": 1_000, "currency": "usd"})
    with pytest.raises(stripe.PermissionError):
        js.v1.payment_intents.cancel(intent.id)

    assert read.id == intent.id
    assert wrong_secret.value.param == no_secret.value.param == "client_secret"
    assert secret_only.value.http_status == 403
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"


def test_a_publishable_key_confirms_a_setup_intent(client: stripe.StripeClient, emu: StripeEmulator):
    customer = client.v1.customers.create()
    setup = client.v1.setup_intents.create(params={"customer": customer.id})

    confirmed = browser(emu).v1.setup_intents.confirm(
        setup.id, params={"client_secret": setup.client_secret, "payment_method": "pm_card_visa"}
    )

    assert confirmed.status == "succeeded"
