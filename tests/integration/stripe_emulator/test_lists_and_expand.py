"""List objects, cursor pagination and `expand[]`."""

from __future__ import annotations

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator

from .conftest import pay, raw_request


@pytest.fixture
def five_customers(client: stripe.StripeClient) -> list[str]:
    """Ids oldest first."""
    return [client.v1.customers.create(params={"name": f"c{index}"}).id for index in range(5)]


def test_lists_are_newest_first_with_has_more(client: stripe.StripeClient, five_customers: list[str]) -> None:
    page = client.v1.customers.list(params={"limit": 2})

    assert page.to_dict()["object"] == "list"
    assert page.url == "/v1/customers"
    assert [customer.id for customer in page.data] == five_customers[:-3:-1]
    assert page.has_more is True


def test_starting_after_and_ending_before(client: stripe.StripeClient, five_customers: list[str]) -> None:
    newest_first = five_customers[::-1]

    after = client.v1.customers.list(params={"limit": 2, "starting_after": newest_first[1]})
    last = client.v1.customers.list(params={"limit": 2, "starting_after": newest_first[3]})
    before = client.v1.customers.list(params={"limit": 2, "ending_before": newest_first[4]})

    assert [c.id for c in after.data] == newest_first[2:4]
    assert after.has_more is True
    assert [c.id for c in last.data] == newest_first[4:]
    assert last.has_more is False
    assert [c.id for c in before.data] == newest_first[2:4]
    assert before.has_more is True


def test_auto_pagination_walks_every_page(client: stripe.StripeClient, five_customers: list[str]) -> None:
    walked = [customer.id for customer in client.v1.customers.list(params={"limit": 2}).auto_paging_iter()]

    assert walked == five_customers[::-1]


def test_default_limit_is_ten(client: stripe.StripeClient) -> None:
    for _ in range(11):
        client.v1.customers.create()

    page = client.v1.customers.list()

    assert (len(page.data), page.has_more) == (10, True)


@pytest.mark.parametrize("limit", ["0", "101"])
def test_limit_is_between_1_and_100(emu: StripeEmulator, limit: str) -> None:
    response = raw_request(emu.url, "GET", f"/v1/customers?limit={limit}")

    assert response.status == 400
    assert response.json()["error"]["param"] == "limit"


def test_unknown_cursor(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.list(params={"starting_after": "cus_missing"})

    assert (raised.value.code, raised.value.param) == ("resource_missing", "starting_after")


def test_expand_dotted_paths(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    intent = pay(
        client,
        customer=customer.id,
        capture_method="automatic",  # automatic_async has no balance transaction yet
        expand=["latest_charge.balance_transaction", "payment_method", "customer"],
    )

    assert isinstance(intent.latest_charge, stripe.Charge)
    assert isinstance(intent.latest_charge.balance_transaction, stripe.BalanceTransaction)
    assert isinstance(intent.payment_method, stripe.PaymentMethod)
    assert isinstance(intent.customer, stripe.Customer)
    assert intent.customer.id == customer.id
    refund = client.v1.refunds.create(
        params={"payment_intent": intent.id, "expand": ["charge.balance_transaction", "payment_intent"]}
    )
    assert isinstance(refund.charge, stripe.Charge)
    assert isinstance(refund.charge.balance_transaction, stripe.BalanceTransaction)
    assert isinstance(refund.payment_intent, stripe.PaymentIntent)
    transaction = client.v1.balance_transactions.retrieve(
        str(refund.balance_transaction), params={"expand": ["source"]}
    )
    assert isinstance(transaction.source, stripe.Refund)


def test_expand_inside_lists(client: stripe.StripeClient) -> None:
    pay(client)

    page = client.v1.payment_intents.list(params={"expand": ["data.latest_charge"]})

    assert isinstance(page.data[0].latest_charge, stripe.Charge)


def test_an_invalid_expand_fails_before_anything_is_created(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        pay(client, expand=["latest_charge.nonsense"])

    assert raised.value.user_message == "This property cannot be expanded (latest_charge.nonsense)."
    assert emu.payment_intents() == []


def test_unexpanded_references_are_ids(client: stripe.StripeClient) -> None:
    intent = pay(client)

    assert isinstance(intent.latest_charge, str)
    assert intent.latest_charge.startswith("ch_")
    assert isinstance(intent.payment_method, str)
    assert intent.payment_method.startswith("pm_")


def test_list_charges_by_payment_intent(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.CardError) as declined:
        pay(client, "pm_card_chargeDeclined")
    assert declined.value.error is not None
    assert declined.value.error.payment_intent is not None
    intent_id = declined.value.error.payment_intent.id
    client.v1.payment_intents.confirm(intent_id, params={"payment_method": "pm_card_visa"})
    pay(client)

    charges = client.v1.charges.list(params={"payment_intent": intent_id})

    assert [charge.status for charge in charges.data] == ["succeeded", "failed"]
