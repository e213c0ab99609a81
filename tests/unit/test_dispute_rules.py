"""Disputes move forward only; whatever the order of Stripe's news, the end state and the money agree."""

import itertools

import pytest

from payments.domain.dispute import StripeDispute, apply_dispute
from payments.domain.events import PaymentData
from payments.domain.payment import Dispute, Payment
from tests.support.payments import AT, captured_payment


def paid(dispute: Dispute | None = None) -> Payment:
    return captured_payment(dispute=dispute)


def news(
    status: str, *, withdrawn: int = 10_000, fee: int = 1500, reinstated: int = 0, **kw
) -> StripeDispute:
    values = {
        "id": "dp_1",
        "status": status,
        "reason": "fraudulent",
        "amount": 10_000,
        "currency": "usd",
        "amount_withdrawn": withdrawn,
        "fee": fee,
        "amount_reinstated": reinstated,
    }
    values.update(kw)
    return StripeDispute(**values)


LOST = [news("needs_response"), news("needs_response"), news("under_review"), news("lost")]
WON = [news("needs_response"), news("under_review"), news("won"), news("won", reinstated=10_000)]


def replay(updates):
    payment, events = paid(), []
    for update in updates:
        change = apply_dispute(payment, update, AT)
        if change is not None:
            payment, events = change.payment, [*events, change.event]
    return payment, events


def moved(events) -> dict[str, int]:
    totals = dict.fromkeys(("withdrawn", "fee", "reinstated", "fee_reinstated", "lost"), 0)
    for event in events:
        movement = PaymentData.model_validate(event.data).dispute_movement
        for name in totals:
            totals[name] += getattr(movement, name)
    return totals


def test_first_news_is_a_chargeback_with_the_money_withdrawn():
    change = apply_dispute(paid(), news("needs_response"), AT)
    assert change.event.event_type == "ChargebackReceived"
    assert change.payment.dispute == Dispute(
        "dp_1", "needs_response", "fraudulent", 10_000, "usd", amount_withdrawn=10_000, fee=1500
    )
    data = PaymentData.model_validate(change.event.data)
    assert (data.dispute_movement.withdrawn, data.dispute_movement.fee, data.dispute_movement.lost) == (
        10_000,
        1500,
        0,
    )
    assert change.payment.version == 3


def test_the_same_news_twice_changes_nothing():
    payment, _ = replay([news("needs_response")])
    assert apply_dispute(payment, news("needs_response"), AT) is None


def test_closing_is_dispute_closed_and_moves_the_loss():
    payment, events = replay(LOST)
    assert [e.event_type for e in events] == ["ChargebackReceived", "DisputeUpdated", "DisputeClosed"]
    assert payment.dispute.status == "lost"
    assert moved(events) == {
        "withdrawn": 10_000,
        "fee": 1500,
        "reinstated": 0,
        "fee_reinstated": 0,
        "lost": 10_000,
    }


def test_status_never_moves_back():
    payment, _ = replay([news("under_review")])
    assert apply_dispute(payment, news("needs_response"), AT) is None
    closed, _ = replay([news("won")])
    assert apply_dispute(closed, news("lost"), AT) is None  # one decision; another closed status is noise


def test_an_inquiry_can_become_a_chargeback():
    payment, events = replay(
        [news("warning_needs_response", withdrawn=0, fee=0), news("needs_response"), news("under_review")]
    )
    assert payment.dispute.status == "under_review"
    assert [e.event_type for e in events] == ["ChargebackReceived", "DisputeUpdated", "DisputeUpdated"]
    assert moved(events)["withdrawn"] == 10_000


def test_another_dispute_id_is_not_applied():
    payment, _ = replay([news("needs_response")])
    assert apply_dispute(payment, news("needs_response", id="dp_other"), AT) is None


@pytest.mark.parametrize("flow", [LOST, WON], ids=["lost", "won"])
def test_any_order_ends_in_the_same_state_and_the_same_money(flow):
    expected_state, expected_events = replay(flow)
    for order in itertools.permutations(flow):
        state, events = replay(order)
        assert state.dispute == expected_state.dispute, order
        assert moved(events) == moved(expected_events), order


def test_won_gives_the_amount_back_but_not_the_fee():
    payment, events = replay(WON)
    assert payment.dispute.status == "won"
    assert moved(events) == {
        "withdrawn": 10_000,
        "fee": 1500,
        "reinstated": 10_000,
        "fee_reinstated": 0,
        "lost": 0,
    }
