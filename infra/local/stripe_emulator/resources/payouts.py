"""Payouts: money leaving the available balance for the (one, fixed) bank account.

Manual payouts come from `POST /v1/payouts`; automatic ones from `run()` (the control API's stand-in
for Stripe's payout schedule), which sweeps every available, not yet paid out balance transaction of
a currency into one payout. Statuses: pending -> in_transit -> paid, or failed (even after paid) or
canceled (manual and pending only). An automatic payout's `reconciliation_status` goes
in_progress -> completed when it is paid or fails; a manual one's is `not_applicable`.
"""

from __future__ import annotations

import datetime

from ..errors import ApiError, invalid_request
from ..ids import new_id, now
from ..lists import paginate, within
from ..model import Obj, Origin, apply, merge_metadata
from ..money import check_currency, check_granularity
from ..params import Integer, Metadata, RangeFilter, String
from ..routing import Call, Route, endpoint, list_endpoint
from ..store import Store
from . import balance

STATUSES = ("pending", "in_transit", "paid", "failed", "canceled")
# The account's only external account; payouts go there unless told otherwise (and may not be).
DESTINATION = new_id("ba")
ARRIVAL_DAYS = 2
AUTOMATIC_DESCRIPTION = "STRIPE PAYOUT"
# Stripe's payout failure codes and the messages it reports with them.
FAILURES = {
    "account_closed": "The bank account has been closed.",
    "account_frozen": "The bank account has been frozen.",
    "bank_account_restricted": "The bank account has restrictions on the type or number of payouts allowed.",
    "bank_ownership_changed": "The destination bank account is no longer valid because its branch has "
    "changed ownership.",
    "could_not_process": "The bank could not process this payout.",
    "debit_not_authorized": "Debit transactions are not approved on the bank account.",
    "declined": "The bank has declined this transfer. Please contact the bank before retrying.",
    "incorrect_account_holder_address": "The bank notified us that the account holder address is incorrect.",
    "incorrect_account_holder_name": "The bank notified us that the account holder name is incorrect.",
    "incorrect_account_holder_tax_id": "The bank notified us that the account holder tax ID is incorrect.",
    "insufficient_funds": "Your Stripe account has insufficient funds to cover the payout.",
    "invalid_account_number": "The routing number seems correct, but the account number is invalid.",
    "invalid_currency": "The bank was unable to process this payout because of its currency.",
    "no_account": "The bank account details on file are probably incorrect.",
    "unsupported_card": "The bank no longer supports payouts to this card.",
}
_INSUFFICIENT = (
    "You have insufficient funds in your Stripe account. One likely reason you have insufficient funds is "
    "that your funds are automatically being paid out; try enabling manual payouts by going to "
    "https://dashboard.stripe.com/account/payouts."
)
_TRACE_PENDING = {"status": "pending", "value": None}
# Test-mode bank accounts give no trace id once the payout is done.
_TRACE_DONE = {"status": "unsupported", "value": None}


def _arrival_date() -> int:
    """Midnight UTC, ARRIVAL_DAYS after today (no weekends or bank holidays)."""
    today = datetime.datetime.fromtimestamp(now(), datetime.UTC).date()
    arrival = datetime.datetime.combine(today + datetime.timedelta(days=ARRIVAL_DAYS), datetime.time())
    return int(arrival.replace(tzinfo=datetime.UTC).timestamp())


def _create(
    store: Store,
    *,
    amount: int,
    currency: str,
    automatic: bool,
    description: str | None,
    metadata: dict[str, str],
    statement_descriptor: str | None,
    origin: Origin,
) -> Obj:
    """The payout, its balance transaction (`-amount`, no fee) and `payout.created`."""
    payout = store.create(
        "payout",
        {
            "amount": amount,
            "application_fee": None,
            "application_fee_amount": None,
            "arrival_date": _arrival_date(),
            "automatic": automatic,
            "balance_transaction": None,
            "currency": currency,
            "description": description,
            "destination": DESTINATION,
            "failure_balance_transaction": None,
            "failure_code": None,
            "failure_message": None,
            "metadata": metadata,
            "method": "standard",
            "original_payout": None,
            "payout_method": None,
            "reconciliation_status": "in_progress" if automatic else "not_applicable",
            "reversed_by": None,
            "source_type": "card",
            "statement_descriptor": statement_descriptor,
            "status": "pending",
            "trace_id": dict(_TRACE_PENDING),
            "type": "bank_account",
        },
    )
    line = balance.record(
        store,
        amount=-amount,
        currency=currency,
        transaction_type="payout",
        source=payout["id"],
        reporting_category="payout",
        description=description or AUTOMATIC_DESCRIPTION,
    )
    payout["balance_transaction"] = line["id"]
    store.emit("payout.created", payout, origin)
    return payout


def run(store: Store, currency: str | None, origin: Origin) -> list[Obj]:
    """Stripe's payout schedule, on request: per currency with a positive available balance, one
    automatic payout of all of it. Every line it sweeps (and its own) gets `_payout`, so the swept
    lines' nets add up to the payout's amount. Paid at once unless the `hold_payouts` setting is on.
    """
    currencies = (
        [check_currency(currency)]
        if currency
        else sorted({line["currency"] for line in store.all("balance_transaction")})
    )
    payouts = []
    for code in currencies:
        swept = balance.unpaid(store, code)
        amount = sum(line["net"] for line in swept)
        if amount <= 0:
            continue
        payout = _create(
            store,
            amount=amount,
            currency=code,
            automatic=True,
            description=AUTOMATIC_DESCRIPTION,
            metadata={},
            statement_descriptor=None,
            origin=origin,
        )
        own = store.get("balance_transaction", payout["balance_transaction"], param="balance_transaction")
        for line in [*swept, own]:
            line["_payout"] = payout["id"]
        if not store.settings.hold_payouts:
            pay(store, payout, origin)
        payouts.append(payout)
    return payouts


def pay(store: Store, payout: Obj, origin: Origin) -> None:
    """The bank receives it: through `in_transit` (`payout.updated`) to `paid` (`payout.paid`)."""
    if payout["status"] not in ("pending", "in_transit"):
        raise invalid_request(
            f"Payout {payout['id']} has status {payout['status']}; only pending or in_transit payouts "
            "can be paid.",
            param="payout",
        )
    if payout["status"] == "pending":
        previous = apply(payout, {"status": "in_transit"})
        store.emit("payout.updated", payout, origin, previous)
    apply(payout, {"status": "paid", "trace_id": dict(_TRACE_DONE)})
    store.emit("payout.paid", payout, origin)
    _complete_reconciliation(store, payout, origin)


def fail(store: Store, payout: Obj, failure_code: str, origin: Origin) -> None:
    """The bank returns it (Stripe can fail a payout it reported paid): a `payout_failure` line
    gives the amount back to the available balance, to be paid out again."""
    if payout["status"] not in ("pending", "in_transit", "paid"):
        raise invalid_request(
            f"Payout {payout['id']} has status {payout['status']} and cannot fail.", param="payout"
        )
    reversal = _reversal(store, payout, "payout_failure", f"Payout failure for {payout['id']}")
    apply(
        payout,
        {
            "failure_balance_transaction": reversal["id"],
            "failure_code": failure_code,
            "failure_message": FAILURES[failure_code],
            "status": "failed",
            "trace_id": dict(_TRACE_DONE),
        },
    )
    store.emit("payout.failed", payout, origin)
    _complete_reconciliation(store, payout, origin)


def _reversal(store: Store, payout: Obj, kind: str, description: str) -> Obj:
    return balance.record(
        store,
        amount=payout["amount"],
        currency=payout["currency"],
        transaction_type=kind,
        source=payout["id"],
        reporting_category="payout_reversal",
        description=description,
    )


def _complete_reconciliation(store: Store, payout: Obj, origin: Origin) -> None:
    if payout["reconciliation_status"] == "in_progress":
        payout["reconciliation_status"] = "completed"
        store.emit("payout.reconciliation_completed", payout, origin)


def _check_funds(store: Store, amount: int, currency: str, source_type: str | None) -> None:
    # Every emulated payment is a card payment: the other source types have no balance.
    available = balance.available_amount(store, currency) if source_type in (None, "card") else 0
    if amount > available:
        raise ApiError(400, "invalid_request_error", _INSUFFICIENT, code="balance_insufficient")


def _create_manual(call: Call) -> Obj:
    params, store = call.params, call.store
    currency = check_currency(params["currency"])
    amount = params["amount"]
    check_granularity(amount, currency)
    if params.get("method") == "instant":
        raise invalid_request(
            "The external account of this account is not eligible for Instant Payouts.",
            code="instant_payouts_unsupported",
            param="method",
        )
    destination = params.get("destination")
    if destination is not None and destination != DESTINATION:
        raise invalid_request(
            f"No such external account: '{destination}'", code="resource_missing", param="destination"
        )
    _check_funds(store, amount, currency, params.get("source_type"))
    return _create(
        store,
        amount=amount,
        currency=currency,
        automatic=False,
        description=params.get("description"),
        metadata=merge_metadata({}, params.get("metadata", {})),
        statement_descriptor=params.get("statement_descriptor"),
        origin=call.origin,
    )


def _retrieve(call: Call) -> Obj:
    return call.store.get("payout", call.path["payout"], param="payout")


def _list(call: Call) -> Obj:
    params = call.params
    arrival = params.get("arrival_date") or {}
    wanted = {name: params[name] for name in ("destination", "status") if params.get(name) is not None}
    payouts = [
        payout
        for payout in call.store.all("payout")
        if within(payout["arrival_date"], arrival) and all(payout[k] == v for k, v in wanted.items())
    ]
    return paginate(call.store, "payout", payouts, params, call.url)


def _update(call: Call) -> Obj:
    payout = _retrieve(call)
    if "metadata" in call.params:
        previous = apply(payout, {"metadata": merge_metadata(payout["metadata"], call.params["metadata"])})
        if previous:
            call.store.emit("payout.updated", payout, call.origin, previous)
    return payout


def _cancel(call: Call) -> Obj:
    """Only a pending manual payout; the amount comes back in a `payout_cancel` line."""
    payout = _retrieve(call)
    if payout["automatic"]:
        raise invalid_request("You cannot cancel automatic Stripe payouts.", param="payout")
    if payout["status"] != "pending":
        raise invalid_request(
            f"Payout {payout['id']} has status {payout['status']}; only pending payouts can be canceled.",
            param="payout",
        )
    reversal = _reversal(call.store, payout, "payout_cancel", f"Payout cancellation for {payout['id']}")
    apply(
        payout,
        {"failure_balance_transaction": reversal["id"], "status": "canceled", "trace_id": dict(_TRACE_DONE)},
    )
    call.store.emit("payout.canceled", payout, call.origin)
    return payout


ROUTES: list[Route] = [
    endpoint(
        "POST",
        "/v1/payouts",
        _create_manual,
        "payout",
        {
            "amount": Integer(required=True, minimum=1),
            "currency": String(required=True),
            "description": String(),
            "destination": String(),
            "metadata": Metadata(),
            "method": String(choices=("instant", "standard")),
            "source_type": String(choices=("bank_account", "card", "fpx")),
            "statement_descriptor": String(max_length=22),
        },
    ),
    list_endpoint(
        "/v1/payouts",
        "payout",
        {"arrival_date": RangeFilter(), "destination": String(), "status": String(choices=STATUSES)},
        _list,
    ),
    endpoint("GET", "/v1/payouts/{payout}", _retrieve, "payout"),
    endpoint("POST", "/v1/payouts/{payout}", _update, "payout", {"metadata": Metadata()}),
    endpoint("POST", "/v1/payouts/{payout}/cancel", _cancel, "payout"),
]
