"""Balance transactions as reconciliation lists them, the Balance, and funds that are still pending."""

from __future__ import annotations

from typing import Any, cast

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator

from .conftest import control, pay, raw_request

DAY = 24 * 3600


def charge(client: stripe.StripeClient, amount: int = 2000, **params: Any) -> stripe.PaymentIntent:
    return pay(client, amount=amount, capture_method="automatic", **params)


def listed(client: stripe.StripeClient, **params: Any) -> list[stripe.BalanceTransaction]:
    payload = cast("stripe.params.BalanceTransactionListParams", {"limit": 3, **params})
    page = client.v1.balance_transactions.list(params=payload)
    return list(page.auto_paging_iter())


def test_auto_paging_walks_every_line_newest_first(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    for index in range(7):
        charge(client, 1000 + index)
    oldest_first = [line["id"] for line in emu.balance_transactions()]

    walked = [line.id for line in client.v1.balance_transactions.list(params={"limit": 3}).auto_paging_iter()]
    page = client.v1.balance_transactions.list(params={"limit": 3, "ending_before": oldest_first[0]})

    assert walked == oldest_first[::-1]
    assert [line.id for line in page.data] == oldest_first[3:0:-1]
    assert page.has_more is True


def test_filters_by_type_source_and_currency(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    usd = charge(client)
    refund = client.v1.refunds.create(params={"payment_intent": usd.id, "amount": 300})
    eur = charge(client, 5000, currency="eur")

    charges = listed(client, type="charge")
    refunds = listed(client, type="refund")
    by_source = listed(client, source=str(usd.latest_charge))
    euros = listed(client, currency="EUR")

    assert [line.source for line in charges] == [eur.latest_charge, usd.latest_charge]
    assert [(line.source, line.amount, line.reporting_category) for line in refunds] == [
        (refund.id, -300, "refund")
    ]
    assert [(line.type, line.amount, line.fee, line.net) for line in by_source] == [
        ("charge", 2000, 88, 1912)
    ]
    assert [(line.currency, line.net) for line in euros] == [("eur", 4825)]
    bad = raw_request(emu.url, "GET", "/v1/balance_transactions?type=gift")
    assert (bad.status, bad.json()["error"]["param"]) == (400, "type")


def test_the_created_range(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    charge(client)
    charge(client)
    created = emu.balance_transactions()[0]["created"]

    assert len(listed(client, created={"gte": created, "lte": created + 5})) == 2
    assert len(listed(client, created={"gt": created - 5, "lt": created + 5})) == 2
    assert listed(client, created={"lt": created}) == []
    assert listed(client, created={"gt": created + 5}) == []
    exact = raw_request(emu.url, "GET", f"/v1/balance_transactions?created={created}")
    assert len(exact.json()["data"]) == 2
    bad = raw_request(emu.url, "GET", "/v1/balance_transactions?created[after]=1")
    assert (bad.status, bad.json()["error"]["param"]) == (400, "created[after]")


def test_the_balance_per_currency(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    empty = client.v1.balance.retrieve()
    charge(client)
    charge(client, 5000, currency="eur")

    balance = client.v1.balance.retrieve()

    assert empty.to_dict() == {
        "object": "balance",
        "available": [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}],
        "livemode": False,
        "pending": [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}],
    }
    assert [(entry.currency, entry.amount) for entry in balance.available] == [("eur", 4825), ("usd", 1912)]
    assert [entry.amount for entry in balance.pending] == [0, 0]
    assert emu.balance() == balance.to_dict()


def test_unsettled_captures_count_as_pending(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    pay(client, capture_method="automatic_async")

    pending = client.v1.balance.retrieve()
    assert [entry.amount for entry in pending.pending] == [1912]
    assert [entry.amount for entry in pending.available] == [0]
    assert emu.run_payouts() == []

    emu.settle_balance_transactions()

    assert [entry.amount for entry in client.v1.balance.retrieve().available] == [1912]


def test_pending_funds_are_not_paid_out_until_available(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    settings = control(emu, "settings", {"pending_balance": True}).json()
    intent = charge(client)
    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 500})
    line = client.v1.balance_transactions.retrieve(
        str(client.v1.charges.retrieve(str(intent.latest_charge)).balance_transaction)
    )

    assert settings["pending_balance"] is True
    assert (line.status, line.available_on) == ("pending", line.created + 2 * DAY)
    assert client.v1.balance_transactions.retrieve(str(refund.balance_transaction)).status == "available"
    balance = client.v1.balance.retrieve()
    assert ([e.amount for e in balance.available], [e.amount for e in balance.pending]) == ([-500], [1912])
    assert emu.run_payouts() == []
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payouts.create(params={"amount": 100, "currency": "usd"})
    assert refused.value.code == "balance_insufficient"

    moved = control(emu, "balance_transactions/make_available", {"id": line.id})

    assert [entry["id"] for entry in moved.json()["available"]] == [line.id]
    made = client.v1.balance_transactions.retrieve(line.id)
    assert made.status == "available"
    assert made.available_on <= made.created + 5
    [announced] = emu.events("balance.available")
    assert announced["data"]["object"]["available"] == [
        {"amount": 1412, "currency": "usd", "source_types": {"card": 1412}}
    ]
    [paid_out] = emu.run_payouts()
    assert paid_out["amount"] == 1412
    assert control(emu, "balance_transactions/make_available", {"id": line.id}).status == 400
    assert emu.make_balance_available() == []  # nothing left pending, no event
    assert len(emu.events("balance.available")) == 1
