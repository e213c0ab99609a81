"""Customers: create, retrieve, update, delete, list."""

from __future__ import annotations

import string

from ..errors import invalid_request
from ..ids import random_token
from ..model import Obj, apply, deleted_stub, merge_metadata
from ..params import Hash, Metadata, Spec, String
from ..routing import Call, Route, endpoint, list_endpoint
from . import payment_methods

_EDITABLE = ("description", "email", "name", "phone")

_FIELDS: dict[str, Spec] = {
    "description": String(),
    "email": String(max_length=512),
    "metadata": Metadata(),
    "name": String(max_length=256),
    "phone": String(max_length=20),
}


def _default_payment_method(call: Call, customer_id: str) -> str | None:
    """`invoice_settings[default_payment_method]` must name a method attached to this customer."""
    reference = (call.params.get("invoice_settings") or {}).get("default_payment_method")
    if reference is None:
        return None
    payment_method = call.store.find(reference)
    if payment_method is None or payment_method.get("customer") != customer_id:
        raise invalid_request(
            f"The customer does not have a payment method with the ID {reference}. The payment method "
            "must be attached to the customer.",
            param="invoice_settings[default_payment_method]",
        )
    return str(reference)


def _create(call: Call) -> Obj:
    params = call.params
    payment_method = None
    if params.get("payment_method"):
        payment_method = payment_methods.materialize(
            call.store, params["payment_method"], param="payment_method"
        )
        payment_methods.check_usable(payment_method, None)
        payment_methods.check_attachable(payment_method)  # fails before the customer exists
    customer = call.store.create(
        "customer",
        {
            "address": None,
            "balance": 0,
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "discount": None,
            "invoice_prefix": random_token(8, string.ascii_uppercase + string.digits),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "metadata": merge_metadata({}, params.get("metadata", {})),
            "next_invoice_sequence": 1,
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
            **{key: params.get(key) for key in _EDITABLE},
        },
    )
    call.store.emit("customer.created", customer, call.origin)
    if payment_method is not None:
        payment_methods.attach(call.store, payment_method, customer, call.origin)
    return customer


def _retrieve(call: Call) -> Obj:
    customer = call.store.get("customer", call.path["customer"], param="customer", include_deleted=True)
    return deleted_stub(customer) if customer.get("_deleted") else customer


def _update(call: Call) -> Obj:
    customer = call.store.get("customer", call.path["customer"], param="customer")
    changes: Obj = {key: call.params[key] for key in _EDITABLE if key in call.params}
    if "metadata" in call.params:
        changes["metadata"] = merge_metadata(customer["metadata"], call.params["metadata"])
    default = _default_payment_method(call, customer["id"])
    if default is not None:
        changes["invoice_settings"] = {**customer["invoice_settings"], "default_payment_method": default}
    previous = apply(customer, changes)
    if previous:
        call.store.emit("customer.updated", customer, call.origin, previous)
    return customer


def _delete(call: Call) -> Obj:
    customer = call.store.get("customer", call.path["customer"], param="customer")
    customer["_deleted"] = True
    call.store.emit("customer.deleted", customer, call.origin)
    return deleted_stub(customer)


ROUTES: list[Route] = [
    # On create a card is attached with `payment_method`; it becomes the invoice default on update.
    endpoint("POST", "/v1/customers", _create, "customer", {**_FIELDS, "payment_method": String()}),
    list_endpoint("/v1/customers", "customer", {"email": String(max_length=512)}),
    endpoint("GET", "/v1/customers/{customer}", _retrieve, "customer"),
    endpoint(
        "POST",
        "/v1/customers/{customer}",
        _update,
        "customer",
        {**_FIELDS, "invoice_settings": Hash({"default_payment_method": String()})},
    ),
    endpoint("DELETE", "/v1/customers/{customer}", _delete, "customer"),
]
