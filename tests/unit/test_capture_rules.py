"""Capture in the domain: how much a capture may take, what PaymentCaptured says of a partial capture,
what the ledger books for it, and an authorization Stripe let expire."""

from __future__ import annotations

import dataclasses

import pytest

from payments.domain.errors import Conflict, ValidationFailed
from payments.domain.events import PaymentEvent
from payments.domain.ledger import Account, journal_entry
from payments.domain.payment import IntentSnapshot, Payment, PaymentStatus
from tests.support.payments import AT, captured_payment

S = PaymentStatus


def authorized(**changes: object) -> Payment:
    """10,000 usd held (manual capture)."""
    return captured_payment(status=S.REQUIRES_CAPTURE, capture_method="manual", amount_captured=0, **changes)


def captured_by_stripe(amount_received: int) -> IntentSnapshot:
    return IntentSnapshot(
        id="pi_1", status="succeeded", amount_received=amount_received, charge_id="ch_1", fee=204
    )


@pytest.mark.parametrize(("requested", "taken"), [(None, 10_000), (6_000, 6_000), (10_000, 10_000), (1, 1)])
def test_a_capture_takes_what_is_asked_or_the_whole_authorization(requested, taken):
    assert authorized().capture_amount(requested) == taken


def test_a_capture_takes_at_most_the_authorized_amount():
    with pytest.raises(Conflict) as refused:
        authorized().capture_amount(10_001)
    assert refused.value.code == "amount_exceeds_capturable"
    assert refused.value.extra == {"payment_id": "pay_1", "param": "amount", "capturable_amount": 10_000}


@pytest.mark.parametrize("requested", [0, -1, 100_000_000])
def test_a_capture_amount_must_be_a_positive_amount(requested):
    with pytest.raises(ValidationFailed):
        authorized().capture_amount(requested)


def test_three_decimal_currencies_capture_in_tens():
    with pytest.raises(ValidationFailed):
        authorized(currency="kwd").capture_amount(6_005)
    assert authorized(currency="kwd").capture_amount(6_000) == 6_000


@pytest.mark.parametrize("status", [S.PENDING, S.REQUIRES_ACTION, S.SUCCEEDED, S.CANCELED, S.FAILED])
def test_only_a_held_payment_can_be_captured(status):
    with pytest.raises(Conflict) as refused:
        dataclasses.replace(authorized(), status=status).capture_amount(6_000)
    assert refused.value.code == "payment_not_capturable"


def test_a_partial_capture_records_what_was_captured_and_what_was_released():
    change = authorized().apply_intent(captured_by_stripe(6_000), AT)

    assert change is not None
    assert (change.payment.status, change.payment.amount, change.payment.amount_captured) == (
        S.SUCCEEDED,
        10_000,
        6_000,
    )
    assert change.payment.refundable_amount == 6_000
    assert change.event.event_type == "PaymentCaptured"
    assert (change.event.data["amount_captured"], change.event.data["amount_released"]) == (6_000, 4_000)


def test_a_full_capture_releases_nothing():
    change = authorized().apply_intent(captured_by_stripe(10_000), AT)
    assert change is not None
    assert change.event.data["amount_released"] == 0


def test_other_events_say_nothing_of_a_release():
    change = captured_payment(status=S.PENDING, amount_captured=0).apply_intent(
        captured_by_stripe(10_000), AT
    )
    assert change is not None
    assert change.event.event_type == "PaymentProcessed"
    assert change.event.data["amount_released"] is None


def test_the_ledger_books_what_was_captured_not_what_was_authorized():
    change = authorized().apply_intent(captured_by_stripe(6_000), AT)
    assert change is not None

    entry = journal_entry(PaymentEvent.model_validate(change.event.model_dump()))

    assert entry is not None
    assert {line.account: line.amount for line in entry.lines} == {
        Account.STRIPE_BALANCE: 5_796,
        Account.STRIPE_FEES: 204,
        Account.SALES: -6_000,
    }


def test_an_authorization_stripe_let_expire_cancels_the_payment_and_says_why():
    expired = IntentSnapshot(id="pi_1", status="canceled", cancellation_reason="automatic")

    change = authorized().apply_intent(expired, AT)

    assert change is not None
    assert change.payment.status is S.CANCELED
    assert change.payment.failure is not None
    assert change.payment.failure.code == "authorization_expired"
    assert change.event.event_type == "PaymentCanceled"
    assert change.event.data["failure"]["code"] == "authorization_expired"
    assert journal_entry(PaymentEvent.model_validate(change.event.model_dump())) is None  # no money moved


def test_a_cancel_we_asked_for_carries_no_failure():
    canceled = IntentSnapshot(id="pi_1", status="canceled", cancellation_reason="requested_by_customer")

    change = authorized().apply_intent(canceled, AT)

    assert change is not None
    assert (change.payment.status, change.payment.failure) == (S.CANCELED, None)
