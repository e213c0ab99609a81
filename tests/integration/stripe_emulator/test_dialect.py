"""Stripe's HTTP dialect: auth, form encoding, strict parameters, error shapes, headers, ids."""

from __future__ import annotations

import base64
import re
from typing import cast

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator
from infra.local.stripe_emulator.forms import decode_form

from .conftest import raw_request

ID = re.compile(r"^(cus|pm|pi|ch|txn|re|dp|evt|req)_[A-Za-z0-9]{24}$")


def test_a_missing_api_key_is_a_401_in_stripes_error_shape(emu: StripeEmulator) -> None:
    response = raw_request(emu.url, "GET", "/v1/customers", api_key=None)

    assert response.status == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("You did not provide an API key.")
    assert set(error) == {"message", "type"}


# Test publishable keys are known, but reach only what Stripe.js may (test_off_session_and_setup.py).
@pytest.mark.parametrize("key", ["sk_live_abcdefghijklmnop", "pk_live_abcdefghijklmnop", "nonsense"])
def test_the_sdk_raises_authentication_error_for_keys_that_are_not_test_secret_keys(
    emu: StripeEmulator, key: str
) -> None:
    client = stripe.StripeClient(key, base_addresses={"api": emu.url}, max_network_retries=0)

    with pytest.raises(stripe.AuthenticationError) as raised:
        client.v1.customers.list()

    assert raised.value.http_status == 401
    assert "Invalid API Key provided" in str(raised.value.user_message)
    assert key not in str(raised.value.user_message) or len(key) <= 12  # long keys are redacted


def test_restricted_test_keys_and_basic_auth_are_accepted(emu: StripeEmulator) -> None:
    basic = base64.b64encode(b"sk_test_curl:").decode()
    with_basic = raw_request(
        emu.url, "GET", "/v1/customers", api_key=None, headers={"Authorization": f"Basic {basic}"}
    )
    restricted = raw_request(emu.url, "GET", "/v1/customers", api_key="rk_test_restricted")

    assert (with_basic.status, restricted.status) == (200, 200)


def test_responses_carry_a_request_id_and_json_content_type(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "a@example.com"})

    assert customer.last_response is not None
    headers = customer.last_response.headers
    assert ID.match(headers["Request-Id"])
    assert headers["Request-Id"].startswith("req_")
    assert headers["Content-Type"] == "application/json"


def test_objects_have_stripe_shaped_ids_creation_times_and_are_never_live(
    client: stripe.StripeClient,
) -> None:
    customer = client.v1.customers.create()

    assert ID.match(customer.id)
    assert customer.id.startswith("cus_")
    assert customer.object == "customer"
    assert customer.livemode is False
    assert isinstance(customer.created, int)
    assert customer.created > 1_700_000_000


def test_unknown_parameters_are_rejected(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.create(
            params=cast("stripe.params.CustomerCreateParams", {"emial": "typo@example.com"})
        )

    assert raised.value.code == "parameter_unknown"
    assert raised.value.param == "emial"
    assert emu.customers() == []


def test_unknown_nested_parameters_are_named_with_brackets(emu: StripeEmulator) -> None:
    body = "amount=1000&currency=usd&automatic_payment_methods[enabled]=true&automatic_payment_methods[x]=1"
    response = raw_request(emu.url, "POST", "/v1/payment_intents", body=body)

    assert response.status == 400
    assert response.json()["error"]["param"] == "automatic_payment_methods[x]"
    assert response.json()["error"]["code"] == "parameter_unknown"


@pytest.mark.parametrize("amount", ["12.5", "abc", "1e3", ""])
def test_integers_are_validated_strictly(emu: StripeEmulator, amount: str) -> None:
    response = raw_request(emu.url, "POST", "/v1/payment_intents", body=f"amount={amount}&currency=usd")

    assert response.status == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "amount"
    assert error["code"] == ("parameter_missing" if amount == "" else "parameter_invalid_integer")
    assert emu.payment_intents() == []


def test_missing_required_parameters(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.create(params={"amount": 1000})  # type: ignore[typeddict-item]

    assert (raised.value.code, raised.value.param) == ("parameter_missing", "currency")
    assert raised.value.user_message == "Missing required param: currency."


def test_booleans_must_be_true_or_false(emu: StripeEmulator) -> None:
    response = raw_request(
        emu.url, "POST", "/v1/payment_intents", body="amount=1000&currency=usd&confirm=yes"
    )

    assert response.status == 400
    assert response.json()["error"]["param"] == "confirm"


def test_brackets_arrays_and_indexed_arrays_decode_the_same(emu: StripeEmulator) -> None:
    body = "amount=1000&currency=usd&payment_method=pm_card_visa&confirm=true&metadata[order_id]=o-1"
    created = raw_request(emu.url, "POST", "/v1/payment_intents", body=body).json()

    for query in ("expand[]=latest_charge", "expand[0]=latest_charge"):
        fetched = raw_request(emu.url, "GET", f"/v1/payment_intents/{created['id']}?{query}").json()
        assert fetched["latest_charge"]["object"] == "charge"
        assert fetched["metadata"] == {"order_id": "o-1"}


def test_form_decoding_builds_nested_dicts_and_lists() -> None:
    decoded = decode_form("a[b][c]=1&l[]=x&l[]=y&i[1]=second&i[0]=first&plain=v+w&empty=")

    assert decoded == {
        "a": {"b": {"c": "1"}},
        "l": ["x", "y"],
        "i": {"1": "second", "0": "first"},  # becomes a list only where the schema expects one
        "plain": "v w",
        "empty": "",
    }


def test_a_value_and_a_hash_under_the_same_name_is_rejected(emu: StripeEmulator) -> None:
    response = raw_request(emu.url, "POST", "/v1/customers", body="metadata=x&metadata[a]=b")

    assert response.status == 400


def test_json_bodies_are_not_the_v1_dialect(emu: StripeEmulator) -> None:
    response = raw_request(
        emu.url,
        "POST",
        "/v1/customers",
        body='{"email": "a@b.c"}',
        headers={"Content-Type": "application/json"},
    )

    assert response.status == 400
    assert "Content-Type" in response.json()["error"]["message"]


def test_unrecognized_urls_are_404(emu: StripeEmulator) -> None:
    response = raw_request(emu.url, "GET", "/v1/nothing_here")

    assert response.status == 404
    assert response.json()["error"]["message"].startswith("Unrecognized request URL (GET: /v1/nothing_here)")


def test_missing_objects_are_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.retrieve("pi_doesnotexist")

    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"
    assert raised.value.param == "intent"
    assert raised.value.user_message == "No such payment_intent: 'pi_doesnotexist'"
    assert raised.value.error is not None
    assert raised.value.error.doc_url == "https://stripe.com/docs/error-codes/resource-missing"


@pytest.mark.parametrize(
    ("currency", "amount", "code"),
    [
        ("usd", 49, "amount_too_small"),
        ("gbp", 29, "amount_too_small"),
        ("usd", 100_000_000, "amount_too_large"),
    ],
)
def test_amount_limits_follow_stripes_per_currency_minimums(
    client: stripe.StripeClient, currency: str, amount: int, code: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.create(params={"amount": amount, "currency": currency})

    assert (raised.value.code, raised.value.param) == (code, "amount")


def test_smallest_allowed_amounts_and_currency_case(client: stripe.StripeClient) -> None:
    gbp = client.v1.payment_intents.create(params={"amount": 30, "currency": "GBP"})
    jpy = client.v1.payment_intents.create(params={"amount": 50, "currency": "jpy"})

    assert (gbp.currency, gbp.amount) == ("gbp", 30)
    assert jpy.currency == "jpy"


def test_unsupported_currencies_are_rejected(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.create(params={"amount": 1000, "currency": "xyz"})

    assert raised.value.param == "currency"
