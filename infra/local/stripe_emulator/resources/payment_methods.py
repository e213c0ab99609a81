"""PaymentMethods: test-card materialisation, attach/detach and the reuse rules around customers."""

from __future__ import annotations

from ..cards import CATALOG, TestCard, card_hash
from ..errors import ApiError, invalid_request, resource_missing
from ..model import Obj, Origin, apply, merge_metadata
from ..params import Metadata, String
from ..routing import Call, Route, endpoint, list_endpoint, list_matching
from ..store import KINDS, Store

_TYPES = ("card",)

# Stripe's wording; a PaymentMethod without a customer is single-use.
_REUSE_MESSAGE = (
    "The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, "
    "shared with a connected account without Customer attachment, or was detached from a Customer. "
    "It may not be used again. To use a PaymentMethod multiple times, you must attach it to a "
    "Customer first."
)


def materialize(store: Store, reference: str, *, param: str, status: int = 400) -> Obj:
    """Resolve a `pm_...` id; a test id (`pm_card_visa`) creates a fresh PaymentMethod each time."""
    if reference in CATALOG:
        return store.create(
            "payment_method",
            {
                "_consumed": False,
                "_template": reference,
                "allow_redisplay": "unspecified",
                "billing_details": {
                    "address": dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state")),
                    "email": None,
                    "name": None,
                    "phone": None,
                    "tax_id": None,
                },
                "card": card_hash(reference),
                "customer": None,
                "metadata": {},
                "type": "card",
            },
        )
    return store.get("payment_method", reference, param=param, status=status)


def test_card(payment_method: Obj) -> TestCard:
    return CATALOG[payment_method["_template"]]


def check_usable(payment_method: Obj, customer_id: str | None) -> None:
    """The rules Stripe applies before charging a PaymentMethod for a (possibly absent) customer."""
    owner = payment_method["customer"]
    if owner is not None and owner != customer_id:
        raise invalid_request(
            f"The PaymentMethod {payment_method['id']} is attached to customer {owner}; pass that "
            f"customer to use it (got {customer_id}).",
            param="payment_method",
        )
    if owner is None and payment_method["_consumed"]:
        raise invalid_request(_REUSE_MESSAGE, param="payment_method")


def set_up_for_off_session(payment_method: Obj) -> bool:
    """Whether an authenticated setup (SetupIntent with `usage=off_session`, or a payment with
    `setup_future_usage=off_session`) prepared this method for off-session payments."""
    return bool(payment_method.get("_off_session_ready"))


def mark_set_up_for_off_session(payment_method: Obj) -> None:
    payment_method["_off_session_ready"] = True


def check_attachable(payment_method: Obj) -> None:
    """Stripe validates a card when it is attached: the declining test cards fail right there.

    A 402 card error like a charge's, but with no charge or PaymentIntent behind it.
    """
    decline = test_card(payment_method).attach_error()
    if decline is not None:
        raise ApiError(
            402,
            "card_error",
            decline.message,
            code=decline.code,
            decline_code=decline.decline_code,
            param=decline.param,
        )


def attach(store: Store, payment_method: Obj, customer: Obj, origin: Origin) -> None:
    if payment_method["customer"] == customer["id"]:
        return
    if payment_method["customer"] is not None:
        raise invalid_request(
            "The payment method you provided has already been attached to a customer.",
            param="payment_method",
        )
    if payment_method["_consumed"]:
        raise invalid_request(_REUSE_MESSAGE, param="payment_method")
    check_attachable(payment_method)
    payment_method["customer"] = customer["id"]
    store.emit("payment_method.attached", payment_method, origin)


def _retrieve(call: Call) -> Obj:
    return materialize(call.store, call.path["payment_method"], param="payment_method", status=404)


def _update(call: Call) -> Obj:
    payment_method = _retrieve(call)
    if "metadata" in call.params:
        metadata = merge_metadata(payment_method["metadata"], call.params["metadata"])
        previous = apply(payment_method, {"metadata": metadata})
        call.store.emit("payment_method.updated", payment_method, call.origin, previous)
    return payment_method


def _attach(call: Call) -> Obj:
    payment_method = _retrieve(call)
    customer = call.store.get("customer", call.params["customer"], param="customer", status=400)
    attach(call.store, payment_method, customer, call.origin)
    return payment_method


def _detach(call: Call) -> Obj:
    payment_method = _retrieve(call)
    if payment_method["customer"] is None:
        raise invalid_request(
            "The payment method you provided is not attached to a customer so detachment is impossible.",
            param="payment_method",
        )
    # A detached PaymentMethod can never be attached or charged again.
    previous = apply(payment_method, {"customer": None, "_consumed": True})
    call.store.emit("payment_method.detached", payment_method, call.origin, previous)
    return payment_method


def _list_for_customer(call: Call) -> Obj:
    customer = call.store.get("customer", call.path["customer"], param="customer")
    return list_matching(call, "payment_method", ("type",), {"customer": customer["id"]})


def _retrieve_for_customer(call: Call) -> Obj:
    customer = call.store.get("customer", call.path["customer"], param="customer")
    payment_method = call.store.get("payment_method", call.path["payment_method"], param="payment_method")
    if payment_method["customer"] != customer["id"]:
        raise resource_missing(KINDS["payment_method"][1], payment_method["id"], "payment_method")
    return payment_method


_TYPE = String(choices=_TYPES)

ROUTES: list[Route] = [
    list_endpoint("/v1/payment_methods", "payment_method", {"customer": String(), "type": _TYPE}),
    endpoint("GET", "/v1/payment_methods/{payment_method}", _retrieve, "payment_method"),
    endpoint(
        "POST", "/v1/payment_methods/{payment_method}", _update, "payment_method", {"metadata": Metadata()}
    ),
    endpoint(
        "POST",
        "/v1/payment_methods/{payment_method}/attach",
        _attach,
        "payment_method",
        {"customer": String(required=True)},
    ),
    endpoint("POST", "/v1/payment_methods/{payment_method}/detach", _detach, "payment_method"),
    list_endpoint(
        "/v1/customers/{customer}/payment_methods", "payment_method", {"type": _TYPE}, _list_for_customer
    ),
    endpoint(
        "GET",
        "/v1/customers/{customer}/payment_methods/{payment_method}",
        _retrieve_for_customer,
        "payment_method",
    ),
]
