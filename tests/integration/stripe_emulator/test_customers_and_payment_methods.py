"""Customers and PaymentMethods: lifecycle, test-card materialisation, attach/detach rules."""

from __future__ import annotations

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator

from .conftest import as_dict, pay


def test_customer_lifecycle(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    created = client.v1.customers.create(
        params={
            "email": "ada@example.com",
            "name": "Ada",
            "description": "vip",
            "metadata": {"a": "1", "b": "2"},
        }
    )
    fetched = client.v1.customers.retrieve(created.id)
    updated = client.v1.customers.update(
        created.id, params={"metadata": {"a": "", "c": "3"}, "name": "Ada L."}
    )
    deleted = client.v1.customers.delete(created.id)

    assert (fetched.email, fetched.name, fetched.description) == ("ada@example.com", "Ada", "vip")
    assert as_dict(updated.metadata) == {"b": "2", "c": "3"}  # an empty value deletes a key
    assert updated.name == "Ada L."
    assert (deleted.id, deleted.deleted) == (created.id, True)
    assert client.v1.customers.retrieve(created.id).deleted is True
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.update(created.id, params={"name": "gone"})
    assert raised.value.code == "resource_missing"
    assert emu.customers() == []
    assert [event["type"] for event in emu.events()] == [
        "customer.created",
        "customer.updated",
        "customer.deleted",
    ]
    updated_event = emu.events("customer.updated")[0]
    assert updated_event["data"]["previous_attributes"] == {"metadata": {"a": "1", "b": "2"}, "name": "Ada"}


def test_customer_list_filters_by_email(client: stripe.StripeClient) -> None:
    for email in ("x@example.com", "y@example.com", "x@example.com"):
        client.v1.customers.create(params={"email": email})

    listed = client.v1.customers.list(params={"email": "x@example.com"})

    assert [customer.email for customer in listed.data] == ["x@example.com", "x@example.com"]


@pytest.mark.parametrize(
    ("test_id", "brand", "last4", "funding"),
    [
        ("pm_card_visa", "visa", "4242", "credit"),
        ("pm_card_visa_debit", "visa", "5556", "debit"),
        ("pm_card_mastercard", "mastercard", "4444", "credit"),
        ("pm_card_amex", "amex", "0005", "credit"),
    ],
)
def test_test_ids_materialise_a_new_payment_method_each_time(
    client: stripe.StripeClient, test_id: str, brand: str, last4: str, funding: str
) -> None:
    first = client.v1.payment_methods.retrieve(test_id)
    second = client.v1.payment_methods.retrieve(test_id)

    assert first.id.startswith("pm_")
    assert first.id != test_id
    assert first.id != second.id
    assert first.card is not None
    assert second.card is not None
    assert (first.card.brand, first.card.last4, first.card.funding, first.card.country) == (
        brand,
        last4,
        funding,
        "US",
    )
    assert first.card.fingerprint == second.card.fingerprint
    assert first.card.exp_month == 12
    assert first.card.exp_year > 2025
    assert first.customer is None
    assert first.type == "card"


def test_different_cards_have_different_fingerprints(client: stripe.StripeClient) -> None:
    visa = client.v1.payment_methods.retrieve("pm_card_visa")
    mastercard = client.v1.payment_methods.retrieve("pm_card_mastercard")

    assert visa.card is not None
    assert mastercard.card is not None
    assert visa.card.fingerprint != mastercard.card.fingerprint


def test_unknown_payment_methods_are_404(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_methods.retrieve("pm_nope")

    assert (raised.value.http_status, raised.value.code, raised.value.param) == (
        404,
        "resource_missing",
        "payment_method",
    )


def test_attach_list_and_detach(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    customer = client.v1.customers.create()
    attached = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    client.v1.payment_methods.retrieve("pm_card_mastercard")  # not attached: not listed

    by_customer = client.v1.customers.payment_methods.list(customer.id)
    by_filter = client.v1.payment_methods.list(params={"customer": customer.id, "type": "card"})
    detached = client.v1.payment_methods.detach(attached.id)

    assert attached.customer == customer.id
    assert [pm.id for pm in by_customer.data] == [attached.id] == [pm.id for pm in by_filter.data]
    assert detached.customer is None
    assert client.v1.customers.payment_methods.list(customer.id).data == []
    assert [event["type"] for event in emu.events("payment_method.*")] == [
        "payment_method.attached",
        "payment_method.detached",
    ]
    assert emu.events("payment_method.detached")[0]["data"]["previous_attributes"] == {
        "customer": customer.id
    }


def test_a_method_attached_to_one_customer_cannot_be_attached_to_another(client: stripe.StripeClient) -> None:
    first, second = client.v1.customers.create(), client.v1.customers.create()
    method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": first.id})

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_methods.attach(method.id, params={"customer": second.id})

    assert raised.value.http_status == 400
    assert client.v1.payment_methods.retrieve(method.id).customer == first.id


def test_a_detached_method_cannot_be_reused(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    client.v1.payment_methods.detach(method.id)

    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.attach(method.id, params={"customer": customer.id})
    with pytest.raises(stripe.InvalidRequestError):
        pay(client, method.id)


def test_detaching_an_unattached_method_fails(client: stripe.StripeClient) -> None:
    method = client.v1.payment_methods.retrieve("pm_card_visa")

    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.detach(method.id)


def test_a_payment_intent_cannot_use_another_customers_method(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    owner, other = client.v1.customers.create(), client.v1.customers.create()
    method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": owner.id})

    with pytest.raises(stripe.InvalidRequestError) as raised:
        pay(client, method.id, customer=other.id)
    with pytest.raises(stripe.InvalidRequestError):
        pay(client, method.id)  # no customer at all

    assert raised.value.param == "payment_method"
    assert emu.payment_intents() == []
    assert pay(client, method.id, customer=owner.id).status == "succeeded"
    assert pay(client, method.id, customer=owner.id).status == "succeeded"  # attached methods are reusable


def test_an_unattached_method_is_single_use(client: stripe.StripeClient) -> None:
    first = pay(client)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        pay(client, str(first.payment_method))

    assert "may not be used again" in str(raised.value.user_message)


def test_setup_future_usage_attaches_the_method_to_the_customer(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()

    intent = pay(client, customer=customer.id, setup_future_usage="off_session")

    method = client.v1.payment_methods.retrieve(str(intent.payment_method))
    assert method.customer == customer.id
    assert intent.setup_future_usage == "off_session"


def test_invoice_default_payment_method_must_belong_to_the_customer(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"payment_method": "pm_card_visa"})
    method = client.v1.customers.payment_methods.list(customer.id).data[0]
    stranger = client.v1.payment_methods.retrieve("pm_card_visa")

    updated = client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": method.id}}
    )
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.update(
            customer.id, params={"invoice_settings": {"default_payment_method": stranger.id}}
        )

    assert updated.invoice_settings is not None
    assert updated.invoice_settings.default_payment_method == method.id
    assert raised.value.param == "invoice_settings[default_payment_method]"
