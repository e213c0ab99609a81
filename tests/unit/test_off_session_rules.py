"""Off-session rules in the domain: an off-session decline for want of authentication waits for the
customer (requires_action) instead of failing, and only a saved method set up for it is charged."""

from __future__ import annotations

import dataclasses

import pytest

from payments.domain.errors import BadRequest
from payments.domain.payment import Failure, IntentSnapshot, Payment, PaymentStatus
from payments.domain.payment_method import SavedPaymentMethod, SetupSnapshot, ensure_chargeable_off_session
from tests.support.payments import AT, captured_payment

S = PaymentStatus
NEEDS_AUTHENTICATION = Failure(
    "authentication_required",
    "Your card was declined. This transaction requires authentication.",
    "authentication_required",
)


def renewal(**changes: object) -> Payment:
    fields = {"status": S.PENDING, "amount_captured": 0, "off_session": True, "payment_method_id": "pm_saved"}
    return captured_payment(**{**fields, **changes})


def declined(
    failure: Failure = NEEDS_AUTHENTICATION, status: str = "requires_payment_method"
) -> IntentSnapshot:
    return IntentSnapshot(id="pi_1", status=status, client_secret="pi_1_secret_x", failure=failure)


def test_an_off_session_decline_for_authentication_waits_for_the_customer():
    change = renewal().apply_intent(declined(), AT)

    assert change is not None
    assert (change.payment.status, change.payment.failure) == (S.REQUIRES_ACTION, None)
    assert change.payment.client_secret == "pi_1_secret_x"
    assert change.payment.next_action == {
        "type": "confirm_on_session",
        "confirm_on_session": {
            "payment_method": "pm_saved",
            "decline_code": "authentication_required",
            "message": "Your card was declined. This transaction requires authentication.",
        },
    }
    assert change.event.event_type == "PaymentRequiresAction"
    assert change.event.data["off_session"] is True
    assert renewal().awaits_customer(declined())


def test_the_same_news_again_changes_nothing():
    waiting = renewal().apply_intent(declined(), AT)
    assert waiting is not None

    assert waiting.payment.apply_intent(declined(), AT) is None


def test_an_on_session_payment_is_not_left_waiting_by_such_a_decline():
    on_session = renewal(off_session=False)

    assert not on_session.awaits_customer(declined())
    assert on_session.apply_intent(declined(), AT) is None  # closed at Stripe first, then failed


@pytest.mark.parametrize(
    "failure",
    [
        Failure("card_declined", "Your card was declined.", "insufficient_funds"),
        Failure(
            "payment_intent_authentication_failure", "The provided PaymentMethod has failed authentication."
        ),
    ],
)
def test_other_off_session_failures_are_failures(failure):
    assert not renewal().awaits_customer(declined(failure))
    closed = declined(failure, status="canceled")

    change = renewal().apply_intent(closed, AT)

    assert change is not None
    assert (change.payment.status, change.payment.failure) == (S.FAILED, failure)


def test_a_waiting_renewal_canceled_is_canceled_not_failed():
    waiting = renewal().apply_intent(declined(), AT)
    assert waiting is not None
    canceled = declined(status="canceled")  # Stripe keeps the attempt's error on the canceled intent

    change = waiting.payment.apply_intent(canceled, AT)

    assert change is not None
    assert (change.payment.status, change.payment.failure, change.event.event_type) == (
        S.CANCELED,
        None,
        "PaymentCanceled",
    )


def test_the_customer_authenticating_completes_the_same_payment():
    waiting = renewal().apply_intent(declined(), AT)
    assert waiting is not None
    on_session = IntentSnapshot(id="pi_1", status="requires_action", next_action={"type": "use_stripe_sdk"})
    paid = IntentSnapshot(id="pi_1", status="succeeded", amount_received=10_000, charge_id="ch_1", fee=320)

    assert waiting.payment.apply_intent(on_session, AT) is None  # still requires_action
    change = waiting.payment.apply_intent(paid, AT)

    assert change is not None
    assert (change.payment.status, change.payment.amount_captured, change.payment.next_action) == (
        S.SUCCEEDED,
        10_000,
        None,
    )
    assert change.event.event_type == "PaymentProcessed"


# --------------------------------------------------------------------------- which methods


def method(**changes: object) -> SavedPaymentMethod:
    base = SavedPaymentMethod("pm_saved", "cus_a", "cus_stripe", "card", AT)
    return dataclasses.replace(base, **changes)


def test_only_a_method_set_up_for_off_session_use_is_charged_off_session():
    ensure_chargeable_off_session(method(off_session=True, setup_intent_id="seti_1"))

    with pytest.raises(BadRequest) as not_set_up:
        ensure_chargeable_off_session(method())
    with pytest.raises(BadRequest) as not_saved:
        ensure_chargeable_off_session(None)

    assert not_set_up.value.code == "payment_method_not_set_up_for_off_session"
    assert not_saved.value.code == "saved_payment_method_required"
    assert not_set_up.value.extra["param"] == not_saved.value.extra["param"] == "payment_method_id"


@pytest.mark.parametrize(
    ("status", "usage"),
    [
        ("succeeded", "off_session"),
        ("requires_action", "on_session"),
        ("requires_payment_method", "on_session"),
    ],
)
def test_a_method_is_set_up_for_off_session_use_only_once_its_setup_succeeded(status, usage):
    updated = method().with_setup(SetupSnapshot(id="seti_1", status=status))

    assert (updated.usage, updated.setup_intent_id) == (usage, "seti_1")
