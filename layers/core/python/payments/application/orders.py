"""Which order a payment is for, whose, and how much (docs/risk.md, Amounts from the order).

A customer's terms come from the order token the Order Service signed: the body may repeat them, never
change them. Trusted callers (services, admins) may state the terms themselves, for any customer, or
send a token too.
"""

from __future__ import annotations

from dataclasses import dataclass

from payments.application.ports import OrderTokens
from payments.domain.errors import BadRequest, FieldError, OrderTokenRejected, ValidationFailed
from payments.domain.money import Money
from payments.domain.order import OrderTerms


@dataclass(frozen=True)
class OrderRequest:
    """What a payment request says about its order; every part may be absent."""

    order_token: str | None = None
    order_id: str | None = None
    amount: int | None = None
    currency: str | None = None  # lowercase
    customer_id: str | None = None


def order_terms(
    request: OrderRequest, caller: str | None, *, trusted: bool, tokens: OrderTokens
) -> OrderTerms:
    """The terms to charge. `caller` is the customer the authenticated caller is (None for a service,
    which is no customer: it must name one); `trusted` says whether they may state terms and act for
    another customer (who may not is refused before this runs)."""
    if request.order_token is None:
        if not trusted:
            raise BadRequest(
                "order_token_required",
                "a customer's payment needs the order_token the Order Service issued for the order",
                param="order_token",
            )
        return _stated(request, caller)
    terms = tokens.verify(request.order_token)
    customer = request.customer_id or (terms.customer_id if trusted else caller)
    if terms.customer_id != customer:
        raise OrderTokenRejected(
            "order_token_customer_mismatch", "the order token was issued to another customer"
        )
    for name, stated, ordered in (
        ("order_id", request.order_id, terms.order_id),
        ("amount", request.amount, terms.money.amount),
        ("currency", request.currency, terms.money.currency),
    ):
        if stated is not None and stated != ordered:
            raise OrderTokenRejected(
                "order_token_mismatch", f"{name} differs from the order token's", param=name
            )
    return terms


def _stated(request: OrderRequest, caller: str | None) -> OrderTerms:
    customer_id = request.customer_id or caller
    missing = [
        FieldError(name, "required without an order_token")
        for name, given in (
            ("order_id", request.order_id),
            ("amount", request.amount),
            ("currency", request.currency),
            ("customer_id", customer_id),
        )
        if given is None
    ]
    if missing:
        raise ValidationFailed(missing)
    order_id, amount, currency = request.order_id, request.amount, request.currency
    assert order_id is not None
    assert amount is not None
    assert currency is not None
    assert customer_id is not None
    return OrderTerms(order_id, customer_id, Money(amount, currency))
