"""Refunds: the cumulative cap, balance transactions, pending refunds that fail or settle."""

from __future__ import annotations

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator

from .conftest import as_dict, control, pay


def test_full_refund_by_payment_intent(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    intent = pay(client)

    refund = client.v1.refunds.create(
        params={"payment_intent": intent.id, "reason": "requested_by_customer", "metadata": {"ticket": "t-1"}}
    )

    charge = client.v1.charges.retrieve(str(intent.latest_charge))
    transaction = client.v1.balance_transactions.retrieve(str(refund.balance_transaction))
    assert (refund.status, refund.amount, refund.reason) == ("succeeded", 2000, "requested_by_customer")
    assert (refund.charge, refund.payment_intent) == (charge.id, intent.id)
    assert as_dict(refund.metadata) == {"ticket": "t-1"}
    assert (charge.amount_refunded, charge.refunded) == (2000, True)
    assert (transaction.amount, transaction.fee, transaction.net, transaction.type) == (
        -2000,
        0,
        -2000,
        "refund",
    )
    assert [event["type"] for event in emu.events()][-2:] == ["refund.created", "charge.refunded"]
    charge_refunded = emu.events("charge.refunded")[0]["data"]
    assert charge_refunded["object"]["refunded"] is True
    assert charge_refunded["previous_attributes"] == {"amount_refunded": 0, "refunded": False}


def test_partial_refunds_accumulate_up_to_the_charge_amount(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    intent = pay(client)
    charge_id = str(intent.latest_charge)

    client.v1.refunds.create(params={"charge": charge_id, "amount": 500})
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 700})
    with pytest.raises(stripe.InvalidRequestError) as too_large:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 801})
    rest = client.v1.refunds.create(params={"payment_intent": intent.id})  # defaults to what is left
    with pytest.raises(stripe.InvalidRequestError) as already:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1})

    assert (too_large.value.code, too_large.value.param) == ("amount_too_large", "amount")
    assert rest.amount == 800
    assert already.value.code == "charge_already_refunded"
    charge = client.v1.charges.retrieve(charge_id)
    assert (charge.amount_refunded, charge.refunded) == (2000, True)
    snapshots = [event["data"]["object"]["amount_refunded"] for event in emu.events("charge.refunded")]
    assert snapshots == [500, 1200, 2000]
    listed = client.v1.refunds.list(params={"payment_intent": intent.id})
    assert [refund.amount for refund in listed.data] == [800, 700, 500]


def test_uncaptured_or_failed_payments_cannot_be_refunded(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    authorised = pay(client, capture_method="manual")
    with pytest.raises(stripe.CardError) as declined:
        pay(client, "pm_card_chargeDeclined")
    assert declined.value.error is not None

    with pytest.raises(stripe.InvalidRequestError) as uncaptured:
        client.v1.refunds.create(params={"payment_intent": authorised.id})
    with pytest.raises(stripe.InvalidRequestError) as failed:
        client.v1.refunds.create(params={"charge": str(declined.value.error.charge)})

    assert uncaptured.value.http_status == 400
    assert (uncaptured.value.code, failed.value.code) == ("charge_not_refundable", "charge_not_refundable")
    assert emu.refunds() == []


def test_a_refund_needs_a_target(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"amount": 100})

    assert raised.value.code == "parameter_missing"


def test_refund_fail_card_starts_pending_and_can_fail(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    intent = pay(client, "pm_card_refundFail")
    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1200})
    charge_id = str(intent.latest_charge)
    assert refund.status == "pending"
    assert client.v1.charges.retrieve(charge_id).amount_refunded == 1200  # pending counts

    response = control(emu, f"refunds/{refund.id}/fail")

    assert response.status == 200
    failed = client.v1.refunds.retrieve(refund.id, params={"expand": ["failure_balance_transaction"]})
    assert (failed.status, failed.failure_reason) == ("failed", "expired_or_canceled_card")
    assert isinstance(failed.failure_balance_transaction, stripe.BalanceTransaction)
    assert (failed.failure_balance_transaction.amount, failed.failure_balance_transaction.type) == (
        1200,
        "refund_failure",
    )
    charge = client.v1.charges.retrieve(charge_id)
    assert (charge.amount_refunded, charge.refunded) == (0, False)
    assert [event["type"] for event in emu.events()][-3:] == [
        "refund.failed",
        "refund.updated",
        "charge.refund.updated",
    ]
    assert emu.events("refund.updated")[0]["data"]["previous_attributes"]["status"] == "pending"
    # The money is refundable again after the failure.
    assert client.v1.refunds.create(params={"payment_intent": intent.id}).amount == 2000


def test_a_pending_refund_can_settle(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    intent = pay(client, "pm_card_refundFail")
    refund = client.v1.refunds.create(params={"payment_intent": intent.id})

    settled = emu.succeed_refund(refund.id)

    assert settled["status"] == "succeeded"
    assert settled["destination_details"]["card"]["reference_status"] == "available"
    assert client.v1.charges.retrieve(str(intent.latest_charge)).amount_refunded == 2000
    assert emu.events()[-2]["type"] == "refund.updated"
    assert control(emu, f"refunds/{refund.id}/succeed").status == 400  # no longer pending


def test_a_succeeded_refund_can_fail_later(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    intent = pay(client)
    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 300})

    failed = emu.fail_refund(refund.id)

    assert failed["status"] == "failed"
    assert client.v1.charges.retrieve(str(intent.latest_charge)).amount_refunded == 0
    assert control(emu, f"refunds/{refund.id}/fail").status == 400  # already failed
    assert control(emu, "refunds/re_missing/fail").status == 404


def test_refund_metadata_update(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    refund = client.v1.refunds.create(params={"payment_intent": pay(client).id})

    updated = client.v1.refunds.update(refund.id, params={"metadata": {"note": "customer called"}})

    assert as_dict(updated.metadata) == {"note": "customer called"}
    assert emu.events()[-1]["type"] == "charge.refund.updated"
