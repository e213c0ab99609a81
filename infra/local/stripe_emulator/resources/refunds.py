"""Refunds: Stripe's cumulative cap, pending refunds, and failures that give the money back."""

from __future__ import annotations

from ..cards import network_reference
from ..errors import invalid_request
from ..model import SYSTEM, Obj, Origin, apply, merge_metadata
from ..money import check_granularity, format_amount
from ..params import Integer, Metadata, String
from ..routing import Call, Route, endpoint, list_endpoint
from ..store import Store
from . import balance, payment_methods, radar

REASONS = ("duplicate", "fraudulent", "requested_by_customer")
# What a failed card refund reports; Stripe picks one of a few reasons.
_FAILURE_REASON = "expired_or_canceled_card"


def _target_charge(call: Call) -> Obj:
    """The charge to refund, named directly or through its PaymentIntent."""
    charge_id, intent_id = call.params.get("charge"), call.params.get("payment_intent")
    if charge_id is None and intent_id is None:
        raise invalid_request(
            "One of the following params should be provided for this request: payment_intent or charge.",
            code="parameter_missing",
        )
    if intent_id is not None:
        intent = call.store.get("payment_intent", intent_id, param="payment_intent", status=400)
        if intent["status"] != "succeeded":
            raise invalid_request(
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                code="charge_not_refundable",
                param="payment_intent",
            )
        charge_id = charge_id or intent["latest_charge"]
    charge = call.store.get("charge", str(charge_id), param="charge", status=400)
    if intent_id is not None and charge["payment_intent"] != intent_id:
        raise invalid_request(
            f"Charge {charge['id']} does not belong to PaymentIntent {intent_id}.", param="charge"
        )
    return charge


def _check_refundable(charge: Obj, amount: int) -> None:
    if charge["status"] != "succeeded" or not charge["captured"]:
        raise invalid_request(
            f"Charge {charge['id']} has not been captured; cancel its PaymentIntent to release the funds.",
            code="charge_not_refundable",
            param="charge",
        )
    if charge["disputed"]:
        raise invalid_request(
            f"Charge {charge['id']} has been charged back; cannot issue a refund.",
            code="charge_disputed",
            param="charge",
        )
    check_granularity(amount, charge["currency"])
    remaining = charge["amount"] - charge["amount_refunded"]
    if remaining == 0:
        raise invalid_request(
            f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
        )
    if amount > remaining:
        currency = charge["currency"]
        raise invalid_request(
            f"Refund amount ({format_amount(amount, currency)}) is greater than unrefunded amount on "
            f"charge ({format_amount(remaining, currency)})",
            code="amount_too_large",
            param="amount",
        )


def _create(call: Call) -> Obj:
    store, params = call.store, call.params
    charge = _target_charge(call)
    amount = params.get("amount") or charge["amount"] - charge["amount_refunded"]
    _check_refundable(charge, amount)
    payment_method = store.get("payment_method", charge["payment_method"], param="payment_method")
    pending = payment_methods.test_card(payment_method).refunds_pending
    refund = store.create(
        "refund",
        {
            "amount": amount,
            "balance_transaction": None,
            "charge": charge["id"],
            "currency": charge["currency"],
            "destination_details": {
                "card": {
                    "reference": network_reference(),
                    "reference_status": "pending" if pending else "available",
                    "reference_type": "acquirer_reference_number",
                    "type": "refund",
                },
                "type": "card",
            },
            "failure_balance_transaction": None,
            "failure_reason": None,
            "metadata": merge_metadata({}, params.get("metadata", {})),
            "next_action": None,
            "payment_intent": charge["payment_intent"],
            "pending_reason": None,
            "reason": params.get("reason"),
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "pending" if pending else "succeeded",
            "transfer_reversal": None,
        },
    )
    # The money leaves the balance when the refund is created, pending or not.
    refund["balance_transaction"] = _ledger(store, refund, -amount, "refund")["id"]
    previous = _adjust_refunded(charge, amount)
    store.emit("refund.created", refund, call.origin)
    store.emit("charge.refunded", charge, call.origin, previous)
    as_fraud = refund["reason"] == "fraudulent"
    radar.close_open_review(store, charge, "refunded_as_fraud" if as_fraud else "refunded", call.origin)
    radar.charge_settled(store, charge, call.origin)
    return refund


def dashboard_refund(store: Store, params: Obj) -> Obj:
    """A refund made at Stripe itself (the dashboard): the same checks, objects and events as
    `POST /v1/refunds` with these (validated) parameters, with no request behind them."""
    return _create(Call(store, params, {}, SYSTEM, "", "/v1/refunds"))


def _ledger(store: Store, refund: Obj, amount: int, kind: str) -> Obj:
    return balance.record(
        store,
        amount=amount,
        currency=refund["currency"],
        transaction_type=kind,
        source=refund["id"],
        reporting_category=kind,
        description=f"REFUND FOR CHARGE ({refund['charge']})" if kind == "refund" else "Refund failure",
    )


def _adjust_refunded(charge: Obj, delta: int) -> Obj:
    """`amount_refunded` counts pending and succeeded refunds; `refunded` means nothing is left."""
    refunded = charge["amount_refunded"] + delta
    return apply(charge, {"amount_refunded": refunded, "refunded": refunded == charge["amount"]})


def _emit_updated(store: Store, refund: Obj, origin: Origin, previous: Obj) -> None:
    store.emit("refund.updated", refund, origin, previous)
    store.emit("charge.refund.updated", refund, origin, previous)


def fail(store: Store, refund: Obj, origin: Origin) -> None:
    """The card network rejected the refund: the amount returns to the balance and the charge."""
    if refund["status"] not in ("pending", "succeeded"):
        raise invalid_request(
            f"Refund {refund['id']} has status {refund['status']} and cannot fail.", param="refund"
        )
    reversal = _ledger(store, refund, refund["amount"], "refund_failure")
    previous = apply(
        refund,
        {
            "failure_balance_transaction": reversal["id"],
            "failure_reason": _FAILURE_REASON,
            "status": "failed",
        },
    )
    charge = store.get("charge", refund["charge"], param="charge")
    _adjust_refunded(charge, -refund["amount"])
    store.emit("refund.failed", refund, origin)
    _emit_updated(store, refund, origin, previous)


def settle(store: Store, refund: Obj, origin: Origin) -> None:
    if refund["status"] != "pending":
        raise invalid_request(
            f"Refund {refund['id']} has status {refund['status']}; only pending refunds can settle.",
            param="refund",
        )
    details = refund["destination_details"]
    card = {**details["card"], "reference_status": "available"}
    previous = apply(refund, {"destination_details": {**details, "card": card}, "status": "succeeded"})
    _emit_updated(store, refund, origin, previous)


def _retrieve(call: Call) -> Obj:
    return call.store.get("refund", call.path["refund"], param="refund")


def _update(call: Call) -> Obj:
    refund = _retrieve(call)
    if "metadata" in call.params:
        metadata = merge_metadata(refund["metadata"], call.params["metadata"])
        previous = apply(refund, {"metadata": metadata})
        if previous:
            _emit_updated(call.store, refund, call.origin, previous)
    return refund


ROUTES: list[Route] = [
    endpoint(
        "POST",
        "/v1/refunds",
        _create,
        "refund",
        {
            "amount": Integer(minimum=1),
            "charge": String(),
            "metadata": Metadata(),
            "payment_intent": String(),
            "reason": String(choices=REASONS),
        },
    ),
    list_endpoint("/v1/refunds", "refund", {"charge": String(), "payment_intent": String()}),
    endpoint("GET", "/v1/refunds/{refund}", _retrieve, "refund"),
    endpoint("POST", "/v1/refunds/{refund}", _update, "refund", {"metadata": Metadata()}),
]
