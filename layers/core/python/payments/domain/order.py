"""An order's terms: which order, whose, and how much. A customer's payment takes them from the order
token the Order Service signs (docs/risk.md, Amounts from the order), never from the request body.

Pure rules: the token's signature and times are checked by the adapter (payments/adapters/order_tokens.py);
here, what its claims must say to be an order we can charge.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from payments.domain.errors import OrderTokenRejected
from payments.domain.money import SUPPORTED, Money, amount_problems

# Our order ids: what the API's order_id accepts and what an order token's order_id must be.
ORDER_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_ORDER_ID = re.compile(ORDER_ID_PATTERN)
_CUSTOMER_MAX = 128  # as the API's customer_id
MAX_TOKEN_LENGTH = 4096  # an order token is a few hundred characters


@dataclass(frozen=True)
class OrderTerms:
    order_id: str
    customer_id: str
    money: Money


def terms_from_claims(claims: Mapping[str, Any]) -> OrderTerms:
    """The terms an order token's (verified) claims state; OrderTokenRejected `order_token_invalid` when
    a claim is missing or of the wrong kind. JSON numbers are taken as they came: 2599.0, 2.599e3 or
    true is not an amount."""
    order_id, sub = claims.get("order_id"), claims.get("sub")
    amount, currency = claims.get("amount"), claims.get("currency")
    if not isinstance(order_id, str) or not _ORDER_ID.match(order_id):
        raise _invalid("the claim order_id must be an order id (letters, digits, _ and -, at most 64)")
    if not isinstance(sub, str) or not sub or len(sub) > _CUSTOMER_MAX:
        raise _invalid("the claim sub must name the customer")
    if not isinstance(currency, str) or currency.lower() not in SUPPORTED:
        raise _invalid("the claim currency must be a supported ISO 4217 code")
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise _invalid("the claim amount must be an integer in the currency's minor unit")
    problems = amount_problems(amount, currency.lower())
    if problems:
        raise _invalid("the claim amount " + "; ".join(p.message for p in problems))
    return OrderTerms(order_id, sub, Money(amount, currency.lower()))


def _invalid(detail: str) -> OrderTokenRejected:
    return OrderTokenRejected("order_token_invalid", detail)
