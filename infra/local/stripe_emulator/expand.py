"""`expand[]`: replacing id strings in a response by the objects they name.

Paths are checked against a static map before the endpoint runs, so a bad `expand` fails the
request without side effects (as Stripe does) instead of after a PaymentIntent was created.
"""

from __future__ import annotations

from collections.abc import Iterable

from .errors import invalid_request
from .model import Obj, deleted_stub, public
from .store import Store

_MAX_DEPTH = 4
_ANY = "*"  # polymorphic reference (balance_transaction.source): checked when resolved

# object type -> expandable field -> type of the object it names
EXPANDABLE: dict[str, dict[str, str]] = {
    "balance_transaction": {"source": _ANY},
    "charge": {
        "balance_transaction": "balance_transaction",
        "customer": "customer",
        "failure_balance_transaction": "balance_transaction",
        "payment_intent": "payment_intent",
        "review": "review",
    },
    "customer": {"invoice_settings": "customer.invoice_settings"},
    "customer.invoice_settings": {"default_payment_method": "payment_method"},
    "dispute": {"charge": "charge", "payment_intent": "payment_intent"},
    "payment_intent": {
        "customer": "customer",
        "latest_charge": "charge",
        "payment_method": "payment_method",
        "review": "review",
    },
    "payment_method": {"customer": "customer"},
    "payout": {
        "balance_transaction": "balance_transaction",
        "failure_balance_transaction": "balance_transaction",
        "original_payout": "payout",
        "reversed_by": "payout",
    },
    "radar.early_fraud_warning": {"charge": "charge", "payment_intent": "payment_intent"},
    "refund": {
        "balance_transaction": "balance_transaction",
        "charge": "charge",
        "failure_balance_transaction": "balance_transaction",
        "payment_intent": "payment_intent",
    },
    "review": {"charge": "charge", "payment_intent": "payment_intent"},
    "setup_intent": {"customer": "customer", "payment_method": "payment_method"},
}


def check_paths(result_kind: str, paths: Iterable[str]) -> None:
    """Reject paths Stripe would reject; `result_kind` is e.g. "charge", "list:charge" or
    "search:payment_intent" (whose `total_count` is expandable: it is only sent when asked for)."""
    for path in paths:
        if result_kind.startswith("search:") and path == "total_count":
            continue
        segments = path.split(".")
        if len(segments) > _MAX_DEPTH:
            raise invalid_request(
                f"You cannot expand more than {_MAX_DEPTH} levels of a property. Property: {path}",
                param="expand",
            )
        kind = result_kind
        for depth, segment in enumerate(segments):
            if kind == _ANY:
                break
            if kind.startswith(("list:", "search:")) and segment == "data":
                kind = kind.partition(":")[2]
                continue
            target = EXPANDABLE.get(kind, {}).get(segment)
            if target is None:
                shown = ".".join(segments[: depth + 1])
                raise invalid_request(f"This property cannot be expanded ({shown}).", param="expand")
            kind = target


def expand(obj: Obj, paths: Iterable[str], store: Store) -> Obj:
    """Expand validated paths in a public copy of `obj` (which the caller owns)."""
    for path in paths:
        _walk(obj, path.split("."), store)
    return obj


def _walk(node: Obj, segments: list[str], store: Store) -> None:
    head, rest = segments[0], segments[1:]
    value = node.get(head)
    if isinstance(value, list):  # `data` of a list object
        for item in value:
            if isinstance(item, dict) and rest:
                _walk(item, rest, store)
        return
    if isinstance(value, str):
        target = store.find(value)
        if target is None:
            return
        value = node[head] = deleted_stub(target) if target.get("_deleted") else public(target)
    if isinstance(value, dict) and rest:
        _walk(value, rest, store)
