"""Charges: the payment attempts behind a PaymentIntent, and their money movements.

A captured charge gets its balance transaction either at capture or, asynchronously, only when it
settles: always for `capture_method=automatic_async` (Stripe: "the balance_transaction is null" on
the API response, `charge.succeeded` and `payment_intent.succeeded`; "listen for the charge.updated
event to know when the balance transaction becomes available"), and for every capture while the
`async_balance_transactions` setting is on. `settle()` is that later moment.
"""

from __future__ import annotations

import copy

from ..cards import Decline
from ..errors import invalid_request
from ..model import Obj, Origin, apply, merge_metadata
from ..money import card_fee
from ..params import Metadata, String
from ..routing import Call, Route, endpoint, list_endpoint
from ..store import Store
from . import balance, payment_methods, radar


def _card_details(payment_method: Obj, amount_authorized: int | None, authenticated: bool) -> Obj:
    card = payment_method["card"]
    copied = ("brand", "checks", "country", "exp_month", "exp_year", "fingerprint", "funding", "last4")
    three_d_secure = {"authentication_flow": "challenge", "result": "authenticated", "version": "2.2.0"}
    return {
        "card": {
            **copy.deepcopy({key: card[key] for key in copied}),
            "amount_authorized": amount_authorized,
            "network": card["brand"],
            "three_d_secure": three_d_secure if authenticated else None,
            "wallet": None,
        },
        "type": "card",
    }


def _create(
    store: Store, intent: Obj, payment_method: Obj, *, decline: Decline | None, authenticated: bool
) -> Obj:
    return store.create(
        "charge",
        {
            "amount": intent["amount"],
            "amount_captured": 0,
            "amount_refunded": 0,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": None,
            "billing_details": copy.deepcopy(payment_method["billing_details"]),
            "calculated_statement_descriptor": "STRIPE EMULATOR",
            "captured": False,
            "currency": intent["currency"],
            "customer": intent["customer"],
            "description": intent["description"],
            "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": decline.code if decline else None,
            "failure_message": decline.message if decline else None,
            "fraud_details": {},
            "metadata": dict(intent["metadata"]),
            "on_behalf_of": None,
            "outcome": radar.outcome(payment_methods.test_card(payment_method), decline, store.settings),
            "paid": decline is None,
            "payment_intent": intent["id"],
            "payment_method": payment_method["id"],
            "payment_method_details": _card_details(
                payment_method, None if decline else intent["amount"], authenticated
            ),
            "receipt_email": intent["receipt_email"],
            "receipt_number": None,
            "receipt_url": None,
            "refunded": False,
            "review": None,
            "shipping": None,
            "source": None,
            "source_transfer": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": intent["statement_descriptor_suffix"],
            "status": "failed" if decline else "succeeded",
            "transfer_data": None,
            "transfer_group": None,
        },
    )


def _transaction(store: Store, charge: Obj) -> str:
    amount = charge["amount_captured"]
    transaction = balance.record(
        store,
        amount=amount,
        currency=charge["currency"],
        transaction_type="charge",
        source=charge["id"],
        reporting_category="charge",
        description=charge["description"],
        fee=card_fee(amount, charge["currency"]),
        pending=store.settings.pending_balance,
    )
    return str(transaction["id"])


def _settlement(store: Store, charge: Obj, amount: int, *, asynchronous: bool) -> Obj:
    """The changes capturing `amount` makes; the uncaptured rest is released (counted as refunded)."""
    changes: Obj = {
        "amount_captured": amount,
        "amount_refunded": charge["amount"] - amount,
        "captured": True,
    }
    if asynchronous:
        changes["_settlement_pending"] = True
    else:
        changes["balance_transaction"] = _transaction(store, {**charge, **changes})
    return changes


def record_success(
    store: Store,
    intent: Obj,
    payment_method: Obj,
    origin: Origin,
    *,
    capture: bool,
    authenticated: bool,
    asynchronous: bool = False,
) -> Obj:
    charge = _create(store, intent, payment_method, decline=None, authenticated=authenticated)
    review = radar.attach_review(store, charge, intent)
    if capture:
        charge.update(_settlement(store, charge, charge["amount"], asynchronous=asynchronous))
    store.emit("charge.succeeded", charge, origin)
    if review is not None:
        store.emit("review.opened", review, origin)
    return charge


def record_failure(
    store: Store, intent: Obj, payment_method: Obj, decline: Decline, origin: Origin, *, authenticated: bool
) -> Obj:
    charge = _create(store, intent, payment_method, decline=decline, authenticated=authenticated)
    store.emit("charge.failed", charge, origin)
    return charge


def capture(store: Store, charge: Obj, amount: int, origin: Origin, *, asynchronous: bool = False) -> None:
    previous = apply(charge, _settlement(store, charge, amount, asynchronous=asynchronous))
    store.emit("charge.captured", charge, origin, previous)


def settlement_pending(charge: Obj) -> bool:
    return bool(charge.get("_settlement_pending"))


def settle(store: Store, charge: Obj, origin: Origin) -> None:
    """The asynchronous capture completes: the balance transaction appears (`charge.updated`)."""
    if not settlement_pending(charge):
        raise invalid_request(
            f"Charge {charge['id']} has no pending balance transaction to settle.", param="charge"
        )
    transaction = _transaction(store, charge)
    previous = apply(charge, {"_settlement_pending": False, "balance_transaction": transaction})
    store.emit("charge.updated", charge, origin, previous)


def release(store: Store, charge: Obj, origin: Origin) -> None:
    """Cancelling an uncaptured payment gives the whole authorisation back."""
    previous = apply(charge, {"amount_refunded": charge["amount"], "refunded": True})
    store.emit("charge.refunded", charge, origin, previous)


def expire(store: Store, charge: Obj, origin: Origin) -> None:
    """An uncaptured charge whose authorisation ran out: released, announced as `charge.expired`."""
    previous = apply(charge, {"amount_refunded": charge["amount"], "refunded": True})
    store.emit("charge.expired", charge, origin, previous)


def _retrieve(call: Call) -> Obj:
    return call.store.get("charge", call.path["charge"], param="charge")


def _update(call: Call) -> Obj:
    charge = _retrieve(call)
    changes: Obj = {"description": call.params["description"]} if "description" in call.params else {}
    if "metadata" in call.params:
        changes["metadata"] = merge_metadata(charge["metadata"], call.params["metadata"])
    previous = apply(charge, changes)
    if previous:
        call.store.emit("charge.updated", charge, call.origin, previous)
    return charge


ROUTES: list[Route] = [
    list_endpoint("/v1/charges", "charge", {"customer": String(), "payment_intent": String()}),
    endpoint("GET", "/v1/charges/{charge}", _retrieve, "charge"),
    endpoint(
        "POST", "/v1/charges/{charge}", _update, "charge", {"description": String(), "metadata": Metadata()}
    ),
]
