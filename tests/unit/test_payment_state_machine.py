import pytest

from payments.domain.payment import (
    TRANSITIONS,
    Failure,
    IntentSnapshot,
    Payment,
    PaymentStatus,
    can_move,
)

S = PaymentStatus
AT = "2026-11-26T12:00:00.000Z"


def payment(status=S.PENDING, capture="automatic", version=1):
    return Payment(
        id="pay_1",
        order_id="order-1",
        customer_id="cus_a",
        amount=1000,
        currency="usd",
        payment_method_id="pm_card_visa",
        capture_method=capture,
        created_at=AT,
        updated_at=AT,
        status=status,
        version=version,
    )


def intent(status, **kw):
    return IntentSnapshot(id="pi_1", status=status, **kw)


def test_every_status_has_a_transition_entry():
    assert set(TRANSITIONS) == set(PaymentStatus)


@pytest.mark.parametrize("terminal", [S.FAILED, S.CANCELED, S.REFUNDED])
def test_terminal_states_have_no_moves(terminal):
    assert all(not can_move(terminal, target) for target in PaymentStatus)


def test_success_records_payment_processed_and_amount_captured():
    change = payment().apply_intent(intent("succeeded", amount_received=1000, charge_id="ch_1", fee=59), AT)
    assert change is not None
    assert change.payment.status is S.SUCCEEDED
    assert change.payment.amount_captured == 1000
    assert change.payment.stripe_fee == 59
    assert change.payment.version == 2
    assert change.event.event_type == "PaymentProcessed"
    assert change.event.event_id == "pay_1:v2"
    assert change.event.data["amount_captured"] == 1000


def test_manual_capture_goes_through_authorized_then_captured():
    authorized = payment(capture="manual").apply_intent(
        intent("requires_capture", amount_capturable=1000), AT
    )
    assert authorized is not None
    assert authorized.event.event_type == "PaymentAuthorized"
    captured = authorized.payment.apply_intent(intent("succeeded", amount_received=1000), AT)
    assert captured is not None
    assert captured.event.event_type == "PaymentCaptured"
    assert captured.payment.amount_captured == 1000


def test_late_processing_after_success_is_ignored():
    done = payment(S.SUCCEEDED)
    assert done.apply_intent(intent("processing"), AT) is None


def test_duplicate_news_is_a_no_op():
    done = payment(S.SUCCEEDED)
    assert done.apply_intent(intent("succeeded", amount_received=1000), AT) is None


def test_requires_action_keeps_secret_and_next_action_only_while_acting():
    acting = payment().apply_intent(
        intent("requires_action", client_secret="pi_1_secret_x", next_action={"type": "use_stripe_sdk"}), AT
    )
    assert acting is not None
    assert acting.payment.client_secret == "pi_1_secret_x"
    assert acting.payment.next_action == {"type": "use_stripe_sdk"}
    done = acting.payment.apply_intent(
        intent("succeeded", amount_received=1000, client_secret="pi_1_secret_x"), AT
    )
    assert done is not None
    assert done.payment.client_secret is None
    assert done.payment.next_action is None


def test_a_failed_attempt_changes_nothing_until_it_is_closed_at_stripe():
    # The intent can still be confirmed with another card: recording failed now would let Stripe
    # charge a payment our books call failed.
    failure = Failure("card_declined", "Your card was declined.", "insufficient_funds")
    assert payment().apply_intent(intent("requires_payment_method", failure=failure), AT) is None
    assert payment(S.REQUIRES_ACTION).apply_intent(intent("requires_payment_method"), AT) is None


def test_decline_closed_at_stripe_records_failure_and_releases_the_order():
    failure = Failure("card_declined", "Your card was declined.", "insufficient_funds")
    change = payment().apply_intent(intent("canceled", failure=failure), AT)
    assert change is not None
    assert change.payment.status is S.FAILED
    assert change.payment.failure == failure
    assert not change.payment.live
    assert change.event.event_type == "PaymentFailed"


def test_capture_and_cancel_guards():
    from payments.domain.errors import Conflict

    with pytest.raises(Conflict) as error:
        payment(S.SUCCEEDED).ensure_capturable()
    assert error.value.code == "payment_not_capturable"
    with pytest.raises(Conflict) as error:
        payment(S.SUCCEEDED).ensure_cancelable()
    assert error.value.code == "payment_not_cancelable"
    payment(S.REQUIRES_CAPTURE).ensure_cancelable()
    payment(S.REQUIRES_CAPTURE).ensure_capturable()
