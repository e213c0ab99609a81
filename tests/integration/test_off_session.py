"""Off-session (merchant-initiated) charges of saved cards: saving a card for off-session use (a Stripe
SetupIntent, which may ask the customer to authenticate once), renewals charged by a service without the
customer, and a card that needs the customer's authentication: the payment waits in requires_action, not
failed, and completes when the customer confirms the same PaymentIntent on-session."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import stripe

from tests.support.api import call
from tests.support.stripe_webhooks import history, intent_of, payment

SERVICE = {"sub": "billing-service", "service": True}
ADMIN = {"sub": "admin-1", "admin": True}


def save(card: str, usage: str | None = "off_session", **kwargs: Any) -> Any:
    body = {"payment_method_id": card} if usage is None else {"payment_method_id": card, "usage": usage}
    return call("POST", "/payment-methods", body=body, **kwargs)


def saved_for_off_session(card: str = "pm_card_visa") -> dict[str, Any]:
    answer = save(card)
    assert answer.status == 201, answer.body
    assert (answer.body["usage"], answer.body["setup"]) == ("off_session", None)
    return dict(answer.body)


def renewal(method_id: str, *, as_: dict[str, Any] = SERVICE, **overrides: Any) -> Any:
    order = {"order_id": f"renewal-{uuid.uuid4().hex[:12]}", "amount": 1_500, "currency": "usd"}
    body = {
        **order,
        "payment_method_id": method_id,
        "customer_id": "cus_alice",
        "off_session": True,
        **overrides,
    }
    return call("POST", "/payments", body=body, **as_)


def browser(emulator: Any) -> stripe.StripeClient:
    """The customer's browser: Stripe.js with a publishable key and the intent's client_secret."""
    return stripe.StripeClient("pk_test_shop", base_addresses={"api": emulator.url}, max_network_retries=0)


# --------------------------------------------------------------------------- saving for off-session use


def test_saving_for_off_session_use_sets_the_card_up_at_stripe(aws, emulator):
    method = saved_for_off_session("pm_card_visa")

    (setup,) = emulator.setup_intents()
    assert (setup["status"], setup["usage"], setup["payment_method"]) == (
        "succeeded",
        "off_session",
        method["id"],
    )
    assert setup["customer"] == emulator.payment_methods()[-1]["customer"]
    assert setup["metadata"] == {"customer_id": "cus_alice", "payment_method_id": method["id"]}
    assert call("GET", f"/payment-methods/{method['id']}").body["usage"] == "off_session"


def test_a_card_saved_without_usage_is_for_on_session_payments_only(aws, emulator):
    answer = save("pm_card_visa", usage=None)

    assert (answer.status, answer.body["usage"], answer.body["setup"]) == (201, "on_session", None)
    assert emulator.setup_intents() == []


def test_a_card_saved_on_session_can_be_set_up_later_by_saving_it_again(aws, emulator):
    first = save("pm_card_visa", usage="on_session").body

    again = save(first["id"])

    assert (again.status, again.body["id"], again.body["usage"]) == (200, first["id"], "off_session")
    assert len(emulator.setup_intents()) == 1
    assert save(first["id"]).status == 200  # set up already: nothing more at Stripe
    assert len(emulator.setup_intents()) == 1


def test_a_setup_that_needs_authentication_is_recorded_once_the_customer_authenticated(aws, emulator):
    pending = save("pm_card_authenticationRequiredOnSetup")

    assert pending.status == 201, pending.body
    assert pending.body["usage"] == "on_session"
    setup = pending.body["setup"]
    assert setup["status"] == "requires_action"
    assert setup["client_secret"].startswith(setup["id"] + "_secret_")
    assert setup["next_action"]["type"] == "use_stripe_sdk"
    assert save(pending.body["id"]).body["setup"]["status"] == "requires_action"  # still waiting

    emulator.authenticate_setup_intent(setup["id"])
    recorded = save(pending.body["id"])

    assert (recorded.status, recorded.body["usage"], recorded.body["setup"]) == (200, "off_session", None)
    assert len(emulator.setup_intents()) == 1


def test_a_setup_the_customer_failed_to_authenticate_is_asked_again(aws, emulator):
    first = save("pm_card_authenticationRequiredOnSetup").body
    emulator.authenticate_setup_intent(first["setup"]["id"], succeed=False)

    again = save(first["id"])

    assert again.body["usage"] == "on_session"
    assert again.body["setup"]["status"] == "requires_action"
    assert again.body["setup"]["id"] != first["setup"]["id"]  # a new setup, the failed one kept
    assert [s["status"] for s in emulator.setup_intents()] == ["requires_payment_method", "requires_action"]


def test_usage_is_validated_and_bound_to_the_idempotency_key(aws, emulator):
    bad = save("pm_card_visa", usage="sometimes")
    first = save("pm_card_visa", usage="on_session", idempotency_key="save-key")
    other_usage = save("pm_card_visa", usage="off_session", idempotency_key="save-key")

    assert (bad.status, bad.body["code"]) == (400, "validation_error")
    assert first.status == 201
    assert (other_usage.status, other_usage.body["code"]) == (422, "idempotency_key_reused")


# --------------------------------------------------------------------------- renewals


def test_a_service_charges_a_saved_card_off_session(aws, emulator, bus):
    method = saved_for_off_session("pm_card_visa")

    charged = renewal(method["id"])

    assert charged.status == 201, charged.body
    assert (charged.body["status"], charged.body["off_session"], charged.body["amount_captured"]) == (
        "succeeded",
        True,
        1_500,
    )
    intent = intent_of(charged.body["id"], emulator)
    assert intent["customer"] == emulator.setup_intents()[0]["customer"]  # the saved method's customer
    assert intent["payment_method"] == method["id"]
    events = [e["detail"] for e in bus.drain() if e["detail-type"] == "PaymentProcessed"]
    assert [e["data"]["off_session"] for e in events] == [True]


def test_a_card_set_up_once_renews_off_session_without_a_challenge(aws, emulator):
    """4000 0025 0000 3155 asks for 3-D Secure on every on-session payment but not off-session once set
    up: the renewal succeeding shows it went to Stripe off-session."""
    pending = save("pm_card_authenticationRequiredOnSetup").body
    emulator.authenticate_setup_intent(pending["setup"]["id"])
    method = save(pending["id"]).body

    charged = renewal(method["id"], as_=ADMIN)

    assert charged.status == 201, charged.body
    assert charged.body["status"] == "succeeded"


def test_customers_cannot_charge_off_session(aws, emulator):
    method = saved_for_off_session()

    refused = renewal(method["id"], as_={"sub": "cus_alice"})

    assert (refused.status, refused.body["code"], refused.body["param"]) == (403, "forbidden", "off_session")
    assert emulator.payment_intents() == []


def test_off_session_needs_a_saved_payment_method(aws, emulator):
    refused = renewal("pm_card_visa")

    assert (refused.status, refused.body["code"], refused.body["param"]) == (
        400,
        "saved_payment_method_required",
        "payment_method_id",
    )
    assert emulator.payment_intents() == []


def test_another_customers_saved_method_is_refused_the_same_way(aws, emulator):
    bobs = save("pm_card_visa", sub="cus_bob").body

    refused = renewal(bobs["id"])

    assert (refused.status, refused.body["code"]) == (400, "saved_payment_method_required")
    assert emulator.payment_intents() == []


def test_a_method_saved_for_on_session_use_is_not_charged_off_session(aws, emulator):
    method = save("pm_card_visa", usage="on_session").body

    refused = renewal(method["id"])

    assert (refused.status, refused.body["code"]) == (400, "payment_method_not_set_up_for_off_session")
    assert emulator.payment_intents() == []


def test_a_setup_still_waiting_for_the_customer_is_not_charged_off_session(aws, emulator):
    pending = save("pm_card_authenticationRequired").body

    refused = renewal(pending["id"])

    assert (refused.status, refused.body["code"]) == (400, "payment_method_not_set_up_for_off_session")


@pytest.mark.parametrize("flag", ["true", 1, None])
def test_off_session_is_a_strict_boolean(aws, emulator, flag):
    method = saved_for_off_session()

    refused = renewal(method["id"], off_session=flag)

    assert (refused.status, refused.body["code"]) == (400, "validation_error")


# --------------------------------------------------------------------------- authentication required


def needs_authentication() -> tuple[dict[str, Any], Any]:
    """4000 0027 6000 3184, set up (the customer authenticated once) and renewed off-session: Stripe
    declines it, the card wants the customer every time."""
    pending = save("pm_card_authenticationRequired").body
    return pending, pending["setup"]["id"]


def test_a_renewal_needing_authentication_waits_for_the_customer_and_completes_on_session(
    stripe_chain, dispatcher
):
    pending, setup_id = needs_authentication()
    stripe_chain.authenticate_setup_intent(setup_id)
    method = save(pending["id"]).body
    assert method["usage"] == "off_session"

    started = renewal(method["id"])

    assert started.status == 201, started.body
    waiting = started.body
    assert (waiting["status"], waiting["failure"], waiting["off_session"]) == ("requires_action", None, True)
    assert waiting["next_action"] == {
        "type": "confirm_on_session",
        "confirm_on_session": {
            "payment_method": method["id"],
            "decline_code": "authentication_required",
            "message": "Your card was declined. This transaction requires authentication.",
        },
    }
    intent = intent_of(waiting["id"], stripe_chain)
    assert waiting["client_secret"] == intent["client_secret"]
    assert (intent["status"], intent["last_payment_error"]["code"]) == (
        "requires_payment_method",
        "authentication_required",
    )
    # Stripe's payment_intent.payment_failed comes through the webhook: not a failure, nothing canceled.
    assert stripe_chain.wait_for_webhooks(timeout=10)
    assert {d.outcome for d in dispatcher.drain()} <= {"ok"}
    assert payment(waiting["id"])["status"] == "requires_action"
    assert intent_of(waiting["id"], stripe_chain)["status"] == "requires_payment_method"

    # The customer comes back: the frontend confirms the same PaymentIntent, then 3-D Secure.
    confirmed = browser(stripe_chain).v1.payment_intents.confirm(
        intent["id"], params={"client_secret": waiting["client_secret"], "payment_method": method["id"]}
    )
    assert confirmed.status == "requires_action"
    stripe_chain.authenticate_payment_intent(intent["id"])
    assert stripe_chain.wait_for_webhooks(timeout=10)
    assert {d.outcome for d in dispatcher.drain()} <= {"ok"}

    done = payment(waiting["id"])
    assert (done["status"], done["amount_captured"], done["next_action"], done["client_secret"]) == (
        "succeeded",
        1_500,
        None,
        None,
    )
    moves = [e for e in history(waiting["id"]) if e.startswith("Payment")]
    assert moves == ["PaymentInitiated", "PaymentRequiresAction", "PaymentProcessed"]
    assert len(stripe_chain.payment_intents()) == 1


def test_a_customer_who_fails_to_authenticate_ends_the_payment_failed_and_frees_the_order(
    stripe_chain, dispatcher
):
    pending, setup_id = needs_authentication()
    stripe_chain.authenticate_setup_intent(setup_id)
    method = save(pending["id"]).body
    waiting = renewal(method["id"]).body
    intent = intent_of(waiting["id"], stripe_chain)

    browser(stripe_chain).v1.payment_intents.confirm(
        intent["id"], params={"client_secret": waiting["client_secret"], "payment_method": method["id"]}
    )
    stripe_chain.authenticate_payment_intent(intent["id"], succeed=False)
    assert stripe_chain.wait_for_webhooks(timeout=10)
    assert {d.outcome for d in dispatcher.drain()} <= {"ok"}

    failed = payment(waiting["id"])
    assert (failed["status"], failed["failure"]["code"]) == (
        "failed",
        "payment_intent_authentication_failure",
    )
    assert intent_of(waiting["id"], stripe_chain)["status"] == "canceled"  # nothing can charge it now
    again = renewal(method["id"], order_id=waiting["order_id"])
    assert again.status == 201, again.body


def test_a_waiting_renewal_can_be_canceled(aws, emulator):
    pending, setup_id = needs_authentication()
    emulator.authenticate_setup_intent(setup_id)
    method = save(pending["id"]).body
    waiting = renewal(method["id"]).body

    canceled = call("POST", f"/payments/{waiting['id']}/cancel", **ADMIN)

    assert (canceled.status, canceled.body["status"], canceled.body["failure"]) == (200, "canceled", None)
    assert intent_of(waiting["id"], emulator)["status"] == "canceled"
    assert history(waiting["id"])[-1] == "PaymentCanceled"
