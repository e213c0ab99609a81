"""Balance transactions: the ledger lines behind charges, refunds and disputes."""

from __future__ import annotations

from ..ids import now
from ..model import Obj
from ..params import String
from ..routing import Call, Route, endpoint, list_endpoint
from ..store import Store


def record(
    store: Store,
    *,
    amount: int,
    currency: str,
    transaction_type: str,
    source: str,
    reporting_category: str,
    description: str | None = None,
    fee: int = 0,
    fee_description: str = "Stripe processing fees",
) -> Obj:
    """Add a line that is immediately `available` (no payout schedule); `net = amount - fee`."""
    fee_details = [
        {
            "amount": fee,
            "application": None,
            "currency": currency,
            "description": fee_description,
            "type": "stripe_fee",
        }
    ]
    return store.create(
        "balance_transaction",
        {
            "amount": amount,
            "available_on": now(),
            "balance_type": "payments",
            "currency": currency,
            "description": description,
            "exchange_rate": None,
            "fee": fee,
            "fee_details": fee_details if fee else [],
            "net": amount - fee,
            "reporting_category": reporting_category,
            "source": source,
            "status": "available",
            "type": transaction_type,
        },
    )


def _retrieve(call: Call) -> Obj:
    return call.store.get("balance_transaction", call.path["id"], param="id")


ROUTES: list[Route] = [
    list_endpoint("/v1/balance_transactions", "balance_transaction", {"source": String(), "type": String()}),
    endpoint("GET", "/v1/balance_transactions/{id}", _retrieve, "balance_transaction"),
]
