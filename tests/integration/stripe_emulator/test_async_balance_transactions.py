"""Asynchronous capture: the balance transaction appears later, announced by `charge.updated`."""

from __future__ import annotations

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator

from .conftest import control, make_client, pay, raw_request


def test_automatic_async_leaves_the_balance_transaction_null_until_settled(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    intent = pay(client, capture_method="automatic_async", expand=["latest_charge.balance_transaction"])

    assert isinstance(intent.latest_charge, stripe.Charge)
    assert intent.latest_charge.captured is True
    assert intent.latest_charge.balance_transaction is None
    assert emu.events("charge.succeeded")[0]["data"]["object"]["balance_transaction"] is None
    assert emu.balance_transactions() == []

    settled = control(emu, "balance_transactions/settle", {"payment_intent": intent.id})

    charge = client.v1.charges.retrieve(intent.latest_charge.id, params={"expand": ["balance_transaction"]})
    assert settled.status == 200
    assert [c["id"] for c in settled.json()["settled"]] == [charge.id]
    assert isinstance(charge.balance_transaction, stripe.BalanceTransaction)
    assert (charge.balance_transaction.amount, charge.balance_transaction.fee) == (2000, 88)
    assert charge.balance_transaction.source == charge.id
    [updated] = emu.events("charge.updated")
    assert updated["data"]["previous_attributes"] == {"balance_transaction": None}
    assert updated["data"]["object"]["balance_transaction"] == charge.balance_transaction.id
    assert updated["request"] == {"id": None, "idempotency_key": None}
    # Only pending charges settle.
    again = control(emu, "balance_transactions/settle", {"charge": charge.id})
    assert (again.status, again.json()["error"]["param"]) == (400, "charge")


def test_automatic_capture_is_synchronous_by_default(client: stripe.StripeClient) -> None:
    intent = pay(client, capture_method="automatic", expand=["latest_charge"])

    assert isinstance(intent.latest_charge, stripe.Charge)
    assert intent.latest_charge.balance_transaction is not None


def test_the_setting_makes_every_capture_asynchronous(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    response = control(emu, "settings", {"async_balance_transactions": True})
    automatic = pay(client, capture_method="automatic")
    manual = pay(client, capture_method="manual")
    client.v1.payment_intents.capture(manual.id, params={"amount_to_capture": 1500})

    pending = [client.v1.charges.retrieve(str(i.latest_charge)) for i in (automatic, manual)]
    settled = emu.settle_balance_transactions()
    shown = raw_request(emu.url, "GET", "/_emulator/settings", api_key=None)

    assert response.json() == {
        "async_balance_transactions": True,
        "block_highest_risk": True,
        "hold_payouts": False,
        "pending_balance": False,
        "review_elevated_risk": True,
        "search_lag": 0.0,
    }
    assert shown.json()["async_balance_transactions"] is True
    assert [charge.balance_transaction for charge in pending] == [None, None]
    assert [charge["id"] for charge in settled] == [charge.id for charge in pending]
    amounts = [
        client.v1.balance_transactions.retrieve(charge["balance_transaction"]).amount for charge in settled
    ]
    assert amounts == [2000, 1500]  # what was captured
    assert len(emu.events("charge.updated")) == 2
    assert emu.settle_balance_transactions() == []  # nothing left


def test_the_setting_as_a_constructor_argument() -> None:
    with StripeEmulator(async_balance_transactions=True) as emulator:
        client = make_client(emulator)
        intent = pay(client, capture_method="automatic")

        assert client.v1.charges.retrieve(str(intent.latest_charge)).balance_transaction is None
        assert emulator.settings()["async_balance_transactions"] is True


def test_refunds_of_an_unsettled_charge_are_booked_at_once(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    intent = pay(client, capture_method="automatic_async")

    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 500})

    assert refund.balance_transaction is not None
    assert client.v1.balance_transactions.retrieve(str(refund.balance_transaction)).amount == -500
    assert client.v1.charges.retrieve(str(intent.latest_charge)).balance_transaction is None


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"charge": "ch_missing"}, 404),
        ({"async_balance_transactions": "yes"}, 400),
    ],
)
def test_control_errors(emu: StripeEmulator, payload: dict[str, str], status: int) -> None:
    path = "balance_transactions/settle" if "charge" in payload else "settings"
    assert control(emu, path, payload).status == status


def test_reset_restores_the_constructors_settings(emu: StripeEmulator) -> None:
    emu.update_settings(
        async_balance_transactions=True,
        search_lag=5,
        pending_balance=True,
        hold_payouts=True,
        review_elevated_risk=False,
        block_highest_risk=False,
    )

    emu.reset()

    assert emu.settings() == {
        "async_balance_transactions": False,
        "block_highest_risk": True,
        "hold_payouts": False,
        "pending_balance": False,
        "review_elevated_risk": True,
        "search_lag": 0.0,
    }
