"""What reconciliation has to catch: a payment made at Stripe directly, a fee that differs from the
booked one, and a refund whose webhooks never arrived."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator

from .conftest import Receiver, as_dict, control, make_client, pay


def test_a_direct_charge_has_money_but_names_no_payment(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    response = control(
        emu, "direct_charge", {"amount": 5000, "currency": "usd", "metadata": {"by": "dashboard"}}
    )

    assert response.status == 200
    intent = client.v1.payment_intents.retrieve(
        response.json()["id"], params={"expand": ["latest_charge.balance_transaction"]}
    )
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 5000, "usd")
    assert as_dict(intent.metadata) == {"by": "dashboard"}
    assert isinstance(intent.latest_charge, stripe.Charge)
    assert as_dict(intent.latest_charge.metadata) == {"by": "dashboard"}
    line = intent.latest_charge.balance_transaction
    assert isinstance(line, stripe.BalanceTransaction)
    assert (line.type, line.amount, line.fee, line.net) == ("charge", 5000, 175, 4825)
    assert [event["type"] for event in emu.events()] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]
    assert {event["request"]["id"] for event in emu.events()} == {None}  # no API request made it


def test_a_direct_charge_is_checked_like_a_payment(emu: StripeEmulator) -> None:
    small = control(emu, "direct_charge", {"amount": 10})
    not_int = control(emu, "direct_charge", {"amount": "10"})
    currency = control(emu, "direct_charge", {"amount": 1000, "currency": "xyz"})
    metadata = control(emu, "direct_charge", {"amount": 1000, "metadata": {"k": 1}})

    assert (small.status, small.json()["error"]["code"]) == (400, "amount_too_small")
    assert [r.json()["error"]["param"] for r in (not_int, currency)] == ["amount", "currency"]
    assert metadata.status == 400
    assert emu.payment_intents() == []
    assert emu.direct_charge(2000, "eur")["currency"] == "eur"


def test_a_fee_changes_silently(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    intent = pay(client, capture_method="automatic")
    line_id = str(client.v1.charges.retrieve(str(intent.latest_charge)).balance_transaction)
    events = len(emu.events())

    changed = control(emu, f"balance_transactions/{line_id}/fee", {"fee": 120})

    line = client.v1.balance_transactions.retrieve(line_id)
    assert changed.status == 200
    assert (line.amount, line.fee, line.net) == (2000, 120, 1880)
    assert [(detail.amount, detail.type) for detail in line.fee_details] == [(120, "stripe_fee")]
    assert len(emu.events()) == events
    assert [entry.amount for entry in client.v1.balance.retrieve().available] == [1880]
    zero = emu.change_fee(line_id, 0)
    assert (zero["fee"], zero["net"], zero["fee_details"]) == (0, 2000, [])


def test_a_dispute_fee_change_shows_on_the_dispute(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    intent = pay(client, capture_method="automatic")
    dispute = emu.create_dispute(intent.id)
    withdrawal = dispute["balance_transactions"][0]["id"]

    emu.change_fee(withdrawal, 2000)

    [shown] = client.v1.disputes.retrieve(dispute["id"]).balance_transactions
    assert (shown.fee, shown.net, shown.fee_details[0].description) == (2000, -4000, "Dispute fee")


def test_fees_of_paid_out_or_payout_lines_do_not_change(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    intent = pay(client, capture_method="automatic")
    line_id = str(client.v1.charges.retrieve(str(intent.latest_charge)).balance_transaction)
    [made] = emu.run_payouts()

    paid_out = control(emu, f"balance_transactions/{line_id}/fee", {"fee": 1})
    payout_line = control(emu, f"balance_transactions/{made['balance_transaction']}/fee", {"fee": 1})
    negative = control(emu, f"balance_transactions/{line_id}/fee", {"fee": -1})
    missing = control(emu, "balance_transactions/txn_missing/fee", {"fee": 1})

    assert [r.status for r in (paid_out, payout_line, negative, missing)] == [400, 400, 400, 404]
    assert paid_out.json()["error"]["message"].endswith(
        f"was paid out in {made['id']}; its fee cannot change."
    )
    assert client.v1.balance_transactions.retrieve(line_id).fee == 88


@pytest.fixture
def hooked(receiver: Receiver) -> Iterator[StripeEmulator]:
    with StripeEmulator(webhook_endpoints=[(receiver.url, "whsec_refunds")]) as emulator:
        yield emulator


def test_a_refund_whose_webhooks_never_arrive(hooked: StripeEmulator, receiver: Receiver) -> None:
    client = make_client(hooked)
    intent = pay(client, capture_method="automatic")
    assert hooked.wait_for_webhooks()
    delivered = len(receiver.deliveries)

    response = control(
        hooked, "refunds", {"payment_intent": intent.id, "amount": 700, "suppress_webhooks": True}
    )

    assert hooked.wait_for_webhooks()
    refund = response.json()
    assert (response.status, refund["status"], refund["amount"]) == (200, "succeeded", 700)
    assert client.v1.balance_transactions.retrieve(refund["balance_transaction"]).amount == -700
    assert client.v1.charges.retrieve(str(intent.latest_charge)).amount_refunded == 700
    assert len(receiver.deliveries) == delivered  # nothing reached the endpoint
    # The events exist, as Stripe keeps events whose deliveries failed.
    listed = client.v1.events.list(params={"types": ["refund.created", "charge.refunded"]}).data
    assert sorted(event.type for event in listed) == ["charge.refunded", "refund.created"]
    assert {event.pending_webhooks for event in listed} == {0}
    assert {event.request.id if event.request else None for event in listed} == {None}

    delivered_refund = hooked.dashboard_refund(intent.id, 300, reason="requested_by_customer")

    assert hooked.wait_for_webhooks()
    types = [event["type"] for event in receiver.events()[delivered:]]
    assert types == ["refund.created", "charge.refunded"]
    assert delivered_refund["reason"] == "requested_by_customer"


def test_a_dashboard_refund_is_checked_like_an_api_refund(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    intent = pay(client, capture_method="automatic")

    too_much = control(emu, "refunds", {"charge": str(intent.latest_charge), "amount": 2001})
    missing = control(emu, "refunds", {"payment_intent": "pi_missing"})
    nothing = control(emu, "refunds", {})
    reason = control(emu, "refunds", {"payment_intent": intent.id, "reason": "bored"})

    assert (too_much.status, too_much.json()["error"]["code"]) == (400, "amount_too_large")
    assert (missing.status, missing.json()["error"]["code"]) == (400, "resource_missing")
    assert [r.json()["error"]["param"] for r in (nothing, reason)] == ["payment_intent", "reason"]
    assert emu.refunds() == []
    assert emu.dashboard_refund(str(intent.latest_charge))["amount"] == 2000
