"""Balance transactions (the ledger lines behind charges, refunds, disputes and payouts) and the
Balance they add up to.

A line is `available` or `pending`; only available lines are paid out. `_payout` (emulator-only)
names the automatic payout that swept it, which is what `?payout=po_...` lists.
"""

from __future__ import annotations

from ..errors import invalid_request
from ..ids import now
from ..lists import paginate
from ..model import Obj, Origin, public
from ..money import card_fee
from ..params import String
from ..routing import Call, Route, endpoint, list_endpoint
from ..store import Store

# Stripe's standard card delay before funds are available (the emulator only uses it for
# `available_on`; pending lines become available when told).
PENDING_DAYS = 2
_DAY = 24 * 3600

# Every `type` a balance transaction can have in Stripe's API; anything else is refused as Stripe does.
TYPES = (
    "adjustment", "advance", "advance_funding", "anticipation_repayment", "application_fee",
    "application_fee_refund", "charge", "climate_order_purchase", "climate_order_refund",
    "connect_collection_transfer", "contribution", "fee_credit_funding", "inbound_transfer",
    "inbound_transfer_reversal", "issuing_authorization_hold", "issuing_authorization_release",
    "issuing_dispute", "issuing_dispute_provisional_credit",
    "issuing_dispute_provisional_credit_reversal", "issuing_transaction", "obligation_outbound",
    "obligation_reversal_inbound",
    "payment", "payment_failure_refund", "payment_network_reserve_hold",
    "payment_network_reserve_release", "payment_refund", "payment_reversal", "payment_unreconciled",
    "payout", "payout_cancel", "payout_failure", "payout_minimum_balance_hold",
    "payout_minimum_balance_release", "refund", "refund_failure", "reserve_hold", "reserve_release",
    "reserve_transaction", "reserved_funds", "stripe_balance_payment_debit",
    "stripe_balance_payment_debit_reversal", "stripe_fee", "stripe_fx_fee", "tax_fee", "tax_fund",
    "topup", "topup_reversal", "transfer", "transfer_cancel", "transfer_failure", "transfer_refund",
)  # fmt: skip
_MANUAL_PAYOUT = "Balance transaction history can only be filtered on automatic transfers, not manual."


def _fee_details(fee: int, currency: str, description: str) -> list[Obj]:
    if not fee:
        return []
    detail = {"application": None, "currency": currency, "description": description, "type": "stripe_fee"}
    return [{"amount": fee, **detail}]


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
    pending: bool = False,
) -> Obj:
    """Add a line, `available` at once unless `pending`; `net = amount - fee`."""
    created = now()
    return store.create(
        "balance_transaction",
        {
            "_payout": None,
            "amount": amount,
            "available_on": created + PENDING_DAYS * _DAY if pending else created,
            "balance_type": "payments",
            "currency": currency,
            "description": description,
            "exchange_rate": None,
            "fee": fee,
            "fee_details": _fee_details(fee, currency, fee_description),
            "net": amount - fee,
            "reporting_category": reporting_category,
            "source": source,
            "status": "pending" if pending else "available",
            "type": transaction_type,
        },
    )


def unpaid(store: Store, currency: str) -> list[Obj]:
    """Available lines in `currency` that no automatic payout has swept yet, oldest first."""
    return [
        line
        for line in store.all("balance_transaction")
        if line["currency"] == currency and line["status"] == "available" and line["_payout"] is None
    ]


def available_amount(store: Store, currency: str) -> int:
    return sum(
        line["net"]
        for line in store.all("balance_transaction")
        if line["currency"] == currency and line["status"] == "available"
    )


def balance(store: Store) -> Obj:
    """The Balance object: available and pending amounts per currency (card source type only).

    Pending counts pending lines and captures whose balance transaction is not settled yet.
    """
    available: dict[str, int] = {}
    pending: dict[str, int] = {}
    for line in store.all("balance_transaction"):
        totals = available if line["status"] == "available" else pending
        totals[line["currency"]] = totals.get(line["currency"], 0) + line["net"]
    for charge in store.all("charge"):
        if charge.get("_settlement_pending"):  # charges.settlement_pending (charges imports this module)
            amount, currency = charge["amount_captured"], charge["currency"]
            pending[currency] = pending.get(currency, 0) + amount - card_fee(amount, currency)
    currencies = sorted({*available, *pending}) or ["usd"]  # Stripe always shows the default currency

    def amounts(totals: dict[str, int]) -> list[Obj]:
        return [
            {"amount": totals.get(c, 0), "currency": c, "source_types": {"card": totals.get(c, 0)}}
            for c in currencies
        ]

    return {
        "object": "balance",
        "available": amounts(available),
        "livemode": False,
        "pending": amounts(pending),
    }


def make_available(store: Store, lines: list[Obj], origin: Origin) -> list[Obj]:
    """Pending lines become available now (`balance.available`, as Stripe announces it)."""
    moved = [line for line in lines if line["status"] == "pending"]
    for line in moved:
        line.update({"available_on": now(), "status": "available"})
    if moved:
        store.emit("balance.available", balance(store), origin)
    return moved


def change_fee(store: Store, line: Obj, fee: int) -> None:
    """Stripe books another fee than expected: `fee`, `fee_details` and `net` change, silently."""
    if line["type"].startswith("payout"):
        raise invalid_request(f"Balance transaction {line['id']} is a payout's; it has no fee.", param="fee")
    if line["_payout"] is not None:
        raise invalid_request(
            f"Balance transaction {line['id']} was paid out in {line['_payout']}; its fee cannot change.",
            param="fee",
        )
    description = line["fee_details"][0]["description"] if line["fee_details"] else "Stripe processing fees"
    line.update(
        {
            "fee": fee,
            "fee_details": _fee_details(fee, line["currency"], description),
            "net": line["amount"] - fee,
        }
    )
    dispute = store.find(line["source"])
    if dispute is not None and dispute["object"] == "dispute":  # it embeds copies of its lines
        dispute["balance_transactions"] = [
            public(line) if copy["id"] == line["id"] else copy for copy in dispute["balance_transactions"]
        ]


def _paid_out_in(store: Store, payout_id: str) -> list[Obj]:
    """What `?payout=` lists: the swept lines and the payout's own, once reconciliation completed."""
    payout = store.get("payout", payout_id, param="payout", status=400)
    if not payout["automatic"]:
        raise invalid_request(_MANUAL_PAYOUT, param="payout")
    lines = [line for line in store.all("balance_transaction") if line["_payout"] == payout_id]
    if payout["reconciliation_status"] != "completed":
        # Stripe: only a `completed` payout lists everything it paid out.
        return [line for line in lines if line["id"] == payout["balance_transaction"]]
    return lines


def _list(call: Call) -> Obj:
    params, store = call.params, call.store
    payout_id = params.get("payout")
    lines = store.all("balance_transaction") if payout_id is None else _paid_out_in(store, payout_id)
    wanted = {name: params[name] for name in ("currency", "source", "type") if params.get(name) is not None}
    if "currency" in wanted:
        wanted["currency"] = wanted["currency"].lower()
    selected = [line for line in lines if all(line[name] == value for name, value in wanted.items())]
    return paginate(store, "balance_transaction", selected, params, call.url)


def _retrieve(call: Call) -> Obj:
    return call.store.get("balance_transaction", call.path["id"], param="id")


def _balance(call: Call) -> Obj:
    return balance(call.store)


ROUTES: list[Route] = [
    endpoint("GET", "/v1/balance", _balance, "balance"),
    list_endpoint(
        "/v1/balance_transactions",
        "balance_transaction",
        {"currency": String(), "payout": String(), "source": String(), "type": String(choices=TYPES)},
        _list,
    ),
    endpoint("GET", "/v1/balance_transactions/{id}", _retrieve, "balance_transaction"),
]
