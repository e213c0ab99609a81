"""Which terms a payment is charged on (payments/application/orders.py): a customer's come from the order
token only; trusted callers (services, admins) may state them or send a token."""

from __future__ import annotations

import pytest

from payments.application.orders import OrderRequest, order_terms
from payments.domain.errors import BadRequest, OrderTokenRejected, ValidationFailed
from payments.domain.money import Money
from payments.domain.order import OrderTerms

ORDER = OrderTerms("order-1", "cus_alice", Money(2599, "usd"))


class Tokens:
    """An Order Service whose every token says ORDER (the adapter's own tests cover real tokens)."""

    def __init__(self) -> None:
        self.verified: list[str] = []

    def verify(self, token: str) -> OrderTerms:
        self.verified.append(token)
        if token != "good":
            raise OrderTokenRejected("order_token_invalid", "bad")
        return ORDER


def terms(request: OrderRequest, caller: str | None = "cus_alice", *, trusted: bool = False) -> OrderTerms:
    return order_terms(request, caller, trusted=trusted, tokens=Tokens())


def test_a_customer_pays_exactly_what_the_token_says():
    assert terms(OrderRequest(order_token="good")) == ORDER
    stated = OrderRequest(order_token="good", order_id="order-1", amount=2599, currency="usd")
    assert terms(stated) == ORDER


def test_a_customer_without_a_token_is_refused_whatever_the_body_states():
    for request in (OrderRequest(), OrderRequest(order_id="order-1", amount=2599, currency="usd")):
        with pytest.raises(BadRequest) as error:
            terms(request)
        assert (error.value.status, error.value.code) == (400, "order_token_required")
        assert error.value.extra == {"param": "order_token"}


@pytest.mark.parametrize(
    ("field", "value"), [("amount", 2598), ("amount", 1), ("currency", "eur"), ("order_id", "order-2")]
)
def test_terms_stated_beside_the_token_must_be_the_tokens(field, value):
    for trusted in (False, True):
        with pytest.raises(OrderTokenRejected) as error:
            terms(OrderRequest(order_token="good", **{field: value}), trusted=trusted)
        assert (error.value.status, error.value.code) == (422, "order_token_mismatch")
        assert error.value.extra == {"param": field}


def test_another_customers_token_is_refused():
    with pytest.raises(OrderTokenRejected) as error:
        terms(OrderRequest(order_token="good"), caller="cus_bob")
    assert error.value.code == "order_token_customer_mismatch"


def test_a_trusted_caller_sending_a_token_pays_for_its_customer_and_no_other():
    assert terms(OrderRequest(order_token="good"), caller="svc", trusted=True) == ORDER
    assert (
        terms(OrderRequest(order_token="good", customer_id="cus_alice"), caller="svc", trusted=True) == ORDER
    )
    with pytest.raises(OrderTokenRejected) as error:
        terms(OrderRequest(order_token="good", customer_id="cus_bob"), caller="svc", trusted=True)
    assert error.value.code == "order_token_customer_mismatch"


def test_a_trusted_caller_may_state_the_terms():
    request = OrderRequest(order_id="order-9", amount=700, currency="eur", customer_id="cus_bob")
    assert terms(request, caller="svc", trusted=True) == OrderTerms("order-9", "cus_bob", Money(700, "eur"))
    # Naming no customer, an admin pays for themselves (as before there were tokens).
    mine = OrderRequest(order_id="order-9", amount=700, currency="eur")
    assert terms(mine, caller="admin-1", trusted=True).customer_id == "admin-1"


def test_a_service_stating_the_terms_names_the_customer():
    # A service is no customer: its client id must never become a payment's customer.
    with pytest.raises(ValidationFailed) as error:
        terms(OrderRequest(order_id="order-9", amount=700, currency="eur"), caller=None, trusted=True)
    assert [e.field for e in error.value.errors] == ["customer_id"]
    named = OrderRequest(order_id="order-9", amount=700, currency="eur", customer_id="cus_bob")
    assert terms(named, caller=None, trusted=True).customer_id == "cus_bob"


def test_stated_terms_must_be_whole():
    with pytest.raises(ValidationFailed) as error:
        terms(OrderRequest(amount=700, customer_id="cus_bob"), caller="svc", trusted=True)
    assert [e.field for e in error.value.errors] == ["order_id", "currency"]


def test_a_bad_token_is_refused_even_for_trusted_callers():
    tokens = Tokens()
    with pytest.raises(OrderTokenRejected):
        order_terms(OrderRequest(order_token="forged", amount=1), "svc", trusted=True, tokens=tokens)
    assert tokens.verified == ["forged"]
