"""Payouts: manual ones over the API, automatic ones from the control API, and their balance
transactions as reconciliation reads them."""

from __future__ import annotations

from typing import Any, cast

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator, WebhookChaos

from .conftest import Receiver, as_dict, control, make_client, pay, raw_request

DAY = 24 * 3600


def charge(client: stripe.StripeClient, amount: int = 2000, **params: Any) -> stripe.PaymentIntent:
    """A payment whose balance transaction exists at once (2000 usd: fee 88, net 1912)."""
    return pay(client, amount=amount, capture_method="automatic", **params)


def payout(client: stripe.StripeClient, amount: int, **params: Any) -> stripe.Payout:
    payload = {"amount": amount, "currency": "usd", **params}
    return client.v1.payouts.create(params=cast("stripe.params.PayoutCreateParams", payload))


def available(client: stripe.StripeClient, currency: str = "usd") -> int:
    return next(
        entry.amount for entry in client.v1.balance.retrieve().available if entry.currency == currency
    )


def lines_of(client: stripe.StripeClient, payout_id: str) -> list[stripe.BalanceTransaction]:
    page = client.v1.balance_transactions.list(params={"payout": payout_id, "limit": 2})
    return list(page.auto_paging_iter())


def test_a_manual_payout_takes_money_from_the_available_balance(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    charge(client)

    made = payout(client, 1000, description="Weekly", metadata={"run": "7"}, statement_descriptor="ACME")

    assert made.id.startswith("po_")
    assert (made.object, made.amount, made.currency, made.status) == ("payout", 1000, "usd", "pending")
    assert (made.automatic, made.reconciliation_status) == (False, "not_applicable")
    assert (made.type, made.method, made.source_type) == ("bank_account", "standard", "card")
    assert (made.description, as_dict(made.metadata), made.statement_descriptor) == (
        "Weekly",
        {"run": "7"},
        "ACME",
    )
    assert isinstance(made.destination, str)
    assert made.destination.startswith("ba_")
    assert made.arrival_date % DAY == 0
    assert made.arrival_date > made.created
    assert (made.failure_balance_transaction, made.failure_code, made.failure_message) == (None, None, None)
    assert made.livemode is False
    line = client.v1.balance_transactions.retrieve(
        str(made.balance_transaction), params={"expand": ["source"]}
    )
    assert (line.amount, line.fee, line.net, line.fee_details) == (-1000, 0, -1000, [])
    assert (line.type, line.reporting_category, line.status) == ("payout", "payout", "available")
    assert isinstance(line.source, stripe.Payout)
    assert line.source.id == made.id
    assert available(client) == 1912 - 1000
    [created] = emu.events("payout.*")
    assert created["type"] == "payout.created"
    assert created["request"]["id"] is not None
    assert client.v1.payouts.retrieve(made.id).to_dict() == made.to_dict()


def test_a_payout_beyond_the_available_balance_is_refused(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    charge(client)

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        payout(client, 1913)
    with pytest.raises(stripe.InvalidRequestError) as other_currency:
        payout(client, 100, currency="eur")
    with pytest.raises(stripe.InvalidRequestError) as other_source:
        payout(client, 100, source_type="bank_account")

    for raised in (too_much, other_currency, other_source):
        assert (raised.value.http_status, raised.value.code) == (400, "balance_insufficient")
    assert too_much.value.user_message is not None
    assert too_much.value.user_message.startswith("You have insufficient funds in your Stripe account.")
    assert payout(client, 1912).amount == 1912  # all of it is fine
    assert emu.payouts()[0]["amount"] == 1912


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"amount": 0}, "amount", "parameter_invalid_integer"),
        ({"currency": "xyz"}, "currency", None),
        ({"method": "instant"}, "method", "instant_payouts_unsupported"),
        ({"destination": "ba_someone_else"}, "destination", "resource_missing"),
        ({"statement_descriptor": "x" * 23}, "statement_descriptor", None),
        ({"source_type": "cash"}, "source_type", None),
        ({"automatic": "true"}, "automatic", "parameter_unknown"),
    ],
)
def test_payout_parameters_are_checked(
    client: stripe.StripeClient, emu: StripeEmulator, params: dict[str, Any], param: str, code: str | None
) -> None:
    charge(client)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        payout(client, **{"amount": 100, **params})

    assert (raised.value.param, raised.value.code) == (param, code)
    assert emu.payouts() == []


def test_a_pending_manual_payout_can_be_canceled(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    charge(client)
    made = payout(client, 1000)

    canceled = client.v1.payouts.cancel(made.id, params={"expand": ["failure_balance_transaction"]})

    assert canceled.status == "canceled"
    reversal = canceled.failure_balance_transaction
    assert isinstance(reversal, stripe.BalanceTransaction)
    assert (reversal.amount, reversal.net, reversal.source) == (1000, 1000, made.id)
    assert (reversal.type, reversal.reporting_category) == ("payout_cancel", "payout_reversal")
    assert available(client) == 1912
    assert [event["type"] for event in emu.events("payout.*")] == ["payout.created", "payout.canceled"]
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.payouts.cancel(made.id)
    assert again.value.http_status == 400


def test_manual_payouts_wait_for_the_control_api_to_be_paid(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    charge(client)
    made = payout(client, 1000)

    paid = control(emu, f"payouts/{made.id}/pay")

    assert (paid.status, paid.json()["status"]) == (200, "paid")
    assert paid.json()["reconciliation_status"] == "not_applicable"
    assert [event["type"] for event in emu.events("payout.*")] == [
        "payout.created",
        "payout.updated",
        "payout.paid",
    ]
    assert emu.events("payout.updated")[0]["data"]["previous_attributes"] == {"status": "pending"}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payouts.cancel(made.id)  # only pending ones
    assert control(emu, f"payouts/{made.id}/pay").status == 400
    assert control(emu, "payouts/po_missing/pay").status == 404


def test_listing_payouts_filters_and_pages(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    charge(client, 10000)
    made = [payout(client, 100 * (index + 1)).id for index in range(3)]
    emu.pay_payout(made[1])
    arrival = client.v1.payouts.retrieve(made[0]).arrival_date

    walked = [p.id for p in client.v1.payouts.list(params={"limit": 2}).auto_paging_iter()]
    paid = client.v1.payouts.list(params={"status": "paid"}).data
    arriving = client.v1.payouts.list(params={"arrival_date": {"gte": arrival, "lte": arrival}}).data
    later = client.v1.payouts.list(params={"arrival_date": {"gt": arrival}}).data
    created = client.v1.payouts.list(params={"created": {"lt": 0}}).data

    assert walked == made[::-1]
    assert [p.id for p in paid] == [made[1]]
    assert len(arriving) == 3
    assert (later, created) == ([], [])
    bad = raw_request(emu.url, "GET", "/v1/payouts?status=lost")
    assert (bad.status, bad.json()["error"]["param"]) == (400, "status")


def test_payout_metadata_updates(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    charge(client)
    made = payout(client, 100, metadata={"a": "1"})

    updated = client.v1.payouts.update(made.id, params={"metadata": {"b": "2"}})

    assert as_dict(updated.metadata) == {"a": "1", "b": "2"}
    [event] = emu.events("payout.updated")
    assert event["data"]["previous_attributes"] == {"metadata": {"a": "1"}}


def test_an_automatic_payout_sweeps_everything_available(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    first = charge(client, 2000)
    second = charge(client, 3000)
    client.v1.refunds.create(params={"payment_intent": second.id, "amount": 500})
    disputed = charge(client, 1000)
    dispute = emu.create_dispute(disputed.id)
    emu.close_dispute(dispute["id"], won=True)
    charge(client, 5000, currency="eur")
    before = {line["id"]: line for line in emu.balance_transactions() if line["currency"] == "usd"}
    expected = sum(line["net"] for line in before.values())

    response = control(emu, "payouts/run", {"currency": "usd"})

    assert response.status == 200
    [made] = response.json()["payouts"]
    assert (made["amount"], made["currency"], made["automatic"]) == (expected, "usd", True)
    assert (made["status"], made["reconciliation_status"]) == ("paid", "completed")
    assert made["description"] == "STRIPE PAYOUT"
    assert [event["type"] for event in emu.events("payout.*")] == [
        "payout.created",
        "payout.updated",
        "payout.paid",
        "payout.reconciliation_completed",
    ]
    listed = lines_of(client, made["id"])
    own = [line for line in listed if line.id == made["balance_transaction"]]
    swept = [line for line in listed if line.id != made["balance_transaction"]]
    assert {line.id for line in swept} == set(before)
    assert [line.type for line in own] == ["payout"]
    assert sum(line.net for line in swept) == made["amount"]
    assert sum(line.net for line in listed) == 0
    kinds = sorted((line.type, line.reporting_category) for line in swept)
    assert kinds == [
        ("adjustment", "dispute"),
        ("adjustment", "dispute_reversal"),
        ("charge", "charge"),
        ("charge", "charge"),
        ("charge", "charge"),
        ("refund", "refund"),
    ]
    assert first.latest_charge in {line.source for line in swept}
    assert available(client) == 0
    assert available(client, "eur") == 5000 - 175  # another currency, another payout
    assert emu.run_payouts("usd") == []  # nothing left to pay out
    [euros] = emu.run_payouts()
    assert (euros["currency"], euros["amount"]) == ("eur", 4825)


def test_listing_by_payout_is_for_automatic_payouts_only(client: stripe.StripeClient) -> None:
    charge(client)
    made = payout(client, 100)

    with pytest.raises(stripe.InvalidRequestError) as manual:
        client.v1.balance_transactions.list(params={"payout": made.id})
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.balance_transactions.list(params={"payout": "po_missing"})

    assert manual.value.user_message == (
        "Balance transaction history can only be filtered on automatic transfers, not manual."
    )
    assert (manual.value.http_status, manual.value.param) == (400, "payout")
    assert (missing.value.http_status, missing.value.code) == (400, "resource_missing")


def test_held_payouts_list_their_lines_once_paid(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    emu.update_settings(hold_payouts=True)
    intent = charge(client)

    [held] = emu.run_payouts()

    assert (held["status"], held["reconciliation_status"]) == ("pending", "in_progress")
    assert [line.id for line in lines_of(client, held["id"])] == [held["balance_transaction"]]
    with pytest.raises(stripe.InvalidRequestError) as cancel:
        client.v1.payouts.cancel(held["id"])
    assert cancel.value.user_message == "You cannot cancel automatic Stripe payouts."
    assert [event["type"] for event in emu.events("payout.*")] == ["payout.created"]

    paid = emu.pay_payout(held["id"])

    assert (paid["status"], paid["reconciliation_status"]) == ("paid", "completed")
    charge_line = client.v1.charges.retrieve(str(intent.latest_charge)).balance_transaction
    assert [line.id for line in lines_of(client, held["id"])] == [held["balance_transaction"], charge_line]
    assert [event["type"] for event in emu.events("payout.*")][1:] == [
        "payout.updated",
        "payout.paid",
        "payout.reconciliation_completed",
    ]


def test_a_paid_payout_can_still_fail_and_the_money_is_paid_out_again(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    charge(client)
    [made] = emu.run_payouts()

    failed = control(emu, f"payouts/{made['id']}/fail", {"failure_code": "account_closed"})

    body = failed.json()
    assert (failed.status, body["status"], body["failure_code"]) == (200, "failed", "account_closed")
    assert body["failure_message"] == "The bank account has been closed."
    assert body["reconciliation_status"] == "completed"
    reversal = client.v1.balance_transactions.retrieve(body["failure_balance_transaction"])
    assert (reversal.amount, reversal.net, reversal.source) == (1912, 1912, made["id"])
    assert (reversal.type, reversal.reporting_category) == ("payout_failure", "payout_reversal")
    assert emu.events("payout.*")[-1]["type"] == "payout.failed"
    assert len(lines_of(client, made["id"])) == 2  # what it paid out stays its own
    assert available(client) == 1912
    [again] = emu.run_payouts()
    assert [line.id for line in lines_of(client, again["id"])] == [again["balance_transaction"], reversal.id]
    assert control(emu, f"payouts/{made['id']}/fail").status == 400  # failed already
    assert control(emu, f"payouts/{again['id']}/fail", {"failure_code": "bad_luck"}).status == 400


def test_a_pending_payout_can_fail_before_it_is_paid(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    emu.update_settings(hold_payouts=True)
    charge(client)
    [held] = emu.run_payouts()

    failed = emu.fail_payout(held["id"], "could_not_process")

    assert (failed["status"], failed["reconciliation_status"]) == ("failed", "completed")
    assert [event["type"] for event in emu.events("payout.*")] == [
        "payout.created",
        "payout.failed",
        "payout.reconciliation_completed",
    ]


def test_payout_webhooks_are_chaotic_like_every_other(receiver: Receiver) -> None:
    chaos = WebhookChaos(seed=3, duplicates=1.0, max_delay_ms=20, reorder=True)
    with StripeEmulator(webhook_endpoints=[(receiver.url, "whsec_payouts")], webhook_chaos=chaos) as emulator:
        charge(make_client(emulator))
        assert emulator.wait_for_webhooks(timeout=10)
        receiver.deliveries.clear()

        [made] = emulator.run_payouts()
        assert emulator.wait_for_webhooks(timeout=10)

    types = [event["type"] for event in receiver.events()]
    expected = ["payout.created", "payout.updated", "payout.paid", "payout.reconciliation_completed"]
    assert sorted(types) == sorted(expected * 2)  # every one, each twice
    assert {event["data"]["object"]["id"] for event in receiver.events()} == {made["id"]}


def test_a_manual_payout_line_is_swept_by_the_next_automatic_payout(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    charge(client)
    manual = payout(client, 1000)
    canceled = payout(client, 500)
    client.v1.payouts.cancel(canceled.id)

    [automatic] = emu.run_payouts()

    listed = lines_of(client, automatic["id"])
    assert automatic["amount"] == 1912 - 1000
    assert sum(line.net for line in listed) == 0
    swept = [(line.source, line.type) for line in listed if line.id != automatic["balance_transaction"]]
    assert swept == [
        (canceled.id, "payout_cancel"),
        (canceled.id, "payout"),
        (manual.id, "payout"),
        (emu.charges()[0]["id"], "charge"),
    ]
