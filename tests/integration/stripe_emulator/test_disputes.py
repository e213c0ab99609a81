"""Disputes: opened by the test card or the control API, money withdrawn, won back or lost."""

from __future__ import annotations

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator

from .conftest import control, pay


def test_the_dispute_card_opens_a_dispute_after_the_charge(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    intent = pay(client, "pm_card_createDispute")

    [dispute] = client.v1.disputes.list(params={"payment_intent": intent.id}).data
    charge = client.v1.charges.retrieve(str(intent.latest_charge))
    assert intent.status == "succeeded"
    assert (dispute.status, dispute.reason, dispute.amount) == ("needs_response", "fraudulent", 2000)
    assert (dispute.charge, dispute.payment_intent) == (charge.id, intent.id)
    assert charge.disputed is True
    [withdrawal] = dispute.balance_transactions
    assert (withdrawal.amount, withdrawal.fee, withdrawal.net) == (-2000, 1500, -3500)
    assert (withdrawal.type, withdrawal.reporting_category, withdrawal.source) == (
        "adjustment",
        "dispute",
        dispute.id,
    )
    types = [event["type"] for event in emu.events()]
    assert types[-2:] == ["charge.dispute.created", "charge.dispute.funds_withdrawn"]
    assert types.index("payment_intent.succeeded") < types.index("charge.dispute.created")
    assert emu.events("charge.dispute.created")[0]["request"] == {"id": None, "idempotency_key": None}


def test_won_disputes_reinstate_the_amount_but_not_the_fee(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    intent = pay(client)
    opened = control(emu, "disputes", {"payment_intent": intent.id, "reason": "product_not_received"}).json()

    closed = control(emu, f"disputes/{opened['id']}/close", {"outcome": "won"})

    dispute = client.v1.disputes.retrieve(opened["id"])
    assert closed.status == 200
    assert (dispute.status, dispute.reason) == ("won", "product_not_received")
    amounts = [(bt.amount, bt.fee, bt.reporting_category) for bt in dispute.balance_transactions]
    assert amounts == [(-2000, 1500, "dispute"), (2000, 0, "dispute_reversal")]
    assert [event["type"] for event in emu.events("charge.dispute.*")] == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.closed",
        "charge.dispute.funds_reinstated",
    ]


def test_lost_disputes_keep_the_money_withdrawn(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    intent = pay(client)
    dispute = emu.create_dispute(str(intent.latest_charge))

    lost = emu.close_dispute(dispute["id"], won=False)

    assert lost["status"] == "lost"
    assert len(lost["balance_transactions"]) == 1
    assert emu.events()[-1]["type"] == "charge.dispute.closed"
    assert control(emu, f"disputes/{dispute['id']}/close", {"outcome": "won"}).status == 400  # already closed


def test_submitting_evidence(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    intent = pay(client)
    opened = emu.create_dispute(intent.id)

    updated = client.v1.disputes.update(
        opened["id"], params={"evidence": {"uncategorized_text": "delivered"}, "metadata": {"case": "c-1"}}
    )

    assert updated.status == "under_review"
    assert updated.evidence.uncategorized_text == "delivered"
    assert updated.evidence_details.submission_count == 1
    assert (
        emu.events("charge.dispute.updated")[0]["data"]["previous_attributes"]["status"] == "needs_response"
    )
    with pytest.raises(stripe.InvalidRequestError):  # the bank decides now: it cannot be conceded
        client.v1.disputes.close(opened["id"])


def test_accepting_concedes_the_dispute(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    intent = pay(client)
    opened = emu.create_dispute(intent.id)

    accepted = client.v1.disputes.close(opened["id"])

    assert accepted.status == "lost"
    assert [bt.amount for bt in accepted.balance_transactions] == [-2000]  # nothing comes back
    assert emu.events()[-1]["type"] == "charge.dispute.closed"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.close(opened["id"])


def test_disputed_charges_cannot_be_refunded_or_disputed_twice(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    intent = pay(client, "pm_card_createDispute")

    with pytest.raises(stripe.InvalidRequestError) as refund:
        client.v1.refunds.create(params={"payment_intent": intent.id})
    second = control(emu, "disputes", {"charge": str(intent.latest_charge)})

    assert refund.value.code == "charge_disputed"
    assert second.status == 400
    assert len(emu.disputes()) == 1


def test_uncaptured_charges_cannot_be_disputed(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    intent = pay(client, "pm_card_createDispute", capture_method="manual")
    assert emu.disputes() == []  # nothing moved yet

    assert control(emu, "disputes", {"payment_intent": intent.id}).status == 400
    client.v1.payment_intents.capture(intent.id)
    assert [dispute["status"] for dispute in emu.disputes()] == ["needs_response"]
