"""disputes: Stripe's charge.dispute.* events (from the emulator, signed, through the webhook and the
real rule) -> the payment's dispute, its domain events and, through accounting, the ledger."""

from __future__ import annotations

from tests.support.bus import put_stripe_event
from tests.support.stripe_webhooks import (
    deliver,
    history,
    intent_of,
    intent_outside_our_api,
    ledger_balances,
    pay,
    payment,
    stripe_client,
)

LOST = {
    "sales": -10_000,
    "stripe_balance": 9_680 - 10_000 - 1_500,
    "stripe_fees": 320,
    "dispute_fees": 1_500,
    "chargeback_losses": 10_000,
}


def dispute_events(emulator, dispute_id: str) -> list[dict]:
    return [e for e in emulator.events("charge.dispute.*") if e["data"]["object"]["id"] == dispute_id]


def disputed(emulator, *, won: bool | None = False, evidence: bool = True) -> tuple[dict, list[dict]]:
    """A paid payment whose customer disputed it; Stripe's events about the dispute, in order."""
    paid = pay()
    dispute = emulator.create_dispute(intent_of(paid["id"], emulator)["id"], reason="product_not_received")
    if evidence:
        stripe_client(emulator).v1.disputes.update(
            dispute["id"], params={"evidence": {"uncategorized_text": "Delivered, signed for."}}
        )
    if won is not None:
        emulator.close_dispute(dispute["id"], won=won)
    return paid, dispute_events(emulator, dispute["id"])


def deliver_each(events, dispatcher) -> None:
    for event in events:
        assert deliver(event).status == 200
        assert {d.outcome for d in dispatcher.drain()} <= {"ok"}


def test_a_lost_dispute(aws, emulator, dispatcher, emitted_metrics):
    paid, events = disputed(emulator)
    assert [e["type"] for e in events] == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.updated",
        "charge.dispute.closed",
    ]
    deliver_each(events, dispatcher)

    dispute = payment(paid["id"])["dispute"]
    assert dispute == {
        "id": events[0]["data"]["object"]["id"],
        "status": "lost",
        "reason": "product_not_received",
        "amount": 10_000,
    }
    assert history(paid["id"])[-3:] == ["ChargebackReceived", "DisputeUpdated", "DisputeClosed"]
    assert ledger_balances() == LOST
    metrics = emitted_metrics()
    assert (metrics["DisputesOpened"], metrics["DisputesUpdated"], metrics["DisputesClosed"]) == (1, 1, 1)
    assert metrics["DisputeEventsUnchanged"] == 1  # funds_withdrawn told nothing new


def test_events_in_reverse_order_end_in_the_same_dispute_and_ledger(aws, emulator, dispatcher):
    paid, events = disputed(emulator)
    deliver_each(reversed(events), dispatcher)

    assert payment(paid["id"])["dispute"]["status"] == "lost"
    # What we learnt first was the closed dispute: one event, carrying all of its money.
    assert history(paid["id"])[-1] == "ChargebackReceived"
    assert ledger_balances() == LOST


def test_a_won_dispute_gives_the_amount_back_but_not_the_fee(aws, emulator, dispatcher):
    paid, events = disputed(emulator, won=True, evidence=False)
    assert events[-1]["type"] == "charge.dispute.funds_reinstated"
    deliver_each(events, dispatcher)

    assert payment(paid["id"])["dispute"]["status"] == "won"
    assert ledger_balances() == {
        "sales": -10_000,
        "stripe_balance": 9_680 - 1_500,
        "stripe_fees": 320,
        "dispute_fees": 1_500,
    }


def test_repeated_bus_deliveries_change_nothing(aws, emulator, dispatcher):
    paid, events = disputed(emulator, won=None, evidence=False)
    for event in events * 2:  # the bus delivers at least once: twice here, past the webhook's dedupe
        put_stripe_event(event)
    dispatcher.drain()
    assert history(paid["id"]).count("ChargebackReceived") == 1
    assert len(history(paid["id"])) == 3
    assert ledger_balances()["dispute_fees"] == 1_500


def test_a_dispute_about_an_unknown_payment_is_retried_then_parked(aws, emulator, dispatcher):
    intent = intent_outside_our_api(emulator, "pay_notwrittenyet000000000000", amount=5_000)
    dispute = emulator.create_dispute(intent.id)
    put_stripe_event(dispute_events(emulator, dispute["id"])[0])
    assert [d.outcome for d in dispatcher.drain() if d.function == "disputes"] == ["retry", "retry", "dlq"]


def test_a_dispute_on_a_charge_made_elsewhere_is_ignored(aws, emulator, dispatcher, emitted_metrics):
    intent = stripe_client(emulator).v1.payment_intents.create(
        params={
            "amount": 5_000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
        }
    )
    dispute = emulator.create_dispute(intent.id)
    put_stripe_event(dispute_events(emulator, dispute["id"])[0])
    assert [d.outcome for d in dispatcher.drain()] == ["ok"]
    assert emitted_metrics()["StripeEventsNotOurs"] == 1
