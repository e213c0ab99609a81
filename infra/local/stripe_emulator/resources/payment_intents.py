"""PaymentIntent endpoints; the state machine itself lives in `payments`."""

from __future__ import annotations

from ..errors import invalid_request
from ..ids import random_token
from ..model import SYSTEM, Obj, merge_metadata
from ..money import check_charge_amount, check_currency
from ..params import Boolean, Hash, Integer, ListOf, Metadata, Spec, String
from ..routing import Call, Route, endpoint, list_endpoint
from ..search import parse_query, search_result
from ..store import Store
from . import payments

_CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
_CANCELLATION_REASONS = ("abandoned", "duplicate", "fraudulent", "requested_by_customer")
_OPEN = ("requires_payment_method", "requires_confirmation", "requires_action")

# Parameters accepted both when creating with `confirm=true` and when confirming.
_CONFIRM_FIELDS: dict[str, Spec] = {
    "capture_method": String(choices=_CAPTURE_METHODS),
    # `off_session` is a boolean, or the kind of off-session payment.
    "off_session": String(choices=("true", "false", "one_off", "recurring")),
    "payment_method": String(),
    "payment_method_options": Hash(
        {"card": Hash({"request_three_d_secure": String(choices=("any", "automatic", "challenge"))})}
    ),
    "receipt_email": String(),
    "return_url": String(),
    "setup_future_usage": String(choices=("off_session", "on_session")),
}

_CREATE_FIELDS: dict[str, Spec] = {
    **_CONFIRM_FIELDS,
    "allowed_payment_method_types": ListOf(String()),
    "amount": Integer(required=True),
    "automatic_payment_methods": Hash(
        {"allow_redirects": String(choices=("always", "never")), "enabled": Boolean(required=True)}
    ),
    "confirm": Boolean(),
    "confirmation_method": String(choices=("automatic", "manual")),
    "currency": String(required=True),
    "customer": String(),
    "description": String(max_length=1000),
    "excluded_payment_method_types": ListOf(String()),
    "metadata": Metadata(),
    "payment_method_types": ListOf(String()),
    "statement_descriptor_suffix": String(max_length=22),
}

_UPDATE_FIELDS: dict[str, Spec] = {
    "amount": Integer(),
    "capture_method": String(choices=_CAPTURE_METHODS),
    "currency": String(),
    "customer": String(),
    "description": String(max_length=1000),
    "metadata": Metadata(),
    "payment_method": String(),
    "receipt_email": String(),
    "setup_future_usage": String(choices=("off_session", "on_session")),
    "statement_descriptor_suffix": String(max_length=22),
}


def _customer_id(call: Call) -> str | None:
    reference = call.params.get("customer")
    if reference is None:
        return None
    return str(call.store.get("customer", reference, param="customer", status=400)["id"])


def _payment_method_settings(params: Obj) -> Obj:
    """Which payment method types the intent offers; the emulator only ever offers `card`.

    Automatic payment methods are on unless explicit `payment_method_types` are given (never both).
    Newer API versions narrow the choice with `allowed_payment_method_types` and
    `excluded_payment_method_types` instead.
    """
    automatic, types = params.get("automatic_payment_methods"), params.get("payment_method_types")
    if automatic is not None and types is not None:
        raise invalid_request(
            "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.",
            code="parameters_exclusive",
        )
    allowed, excluded = (
        params.get("allowed_payment_method_types"),
        params.get("excluded_payment_method_types"),
    )
    if "card" not in (types or allowed or ["card"]) or "card" in (excluded or []):
        raise invalid_request(
            "The Stripe emulator only supports card payments; allow the `card` payment method type.",
            param="allowed_payment_method_types" if allowed is not None else "payment_method_types",
        )
    settings: Obj = {
        "allowed_payment_method_types": allowed,
        "automatic_payment_methods": None,
        "excluded_payment_method_types": excluded,
        "payment_method_types": ["card"],
    }
    if not types:
        automatic = automatic or {"enabled": True}
        redirects = automatic.get("allow_redirects") or "always"
        settings["automatic_payment_methods"] = {
            "allow_redirects": redirects,
            "enabled": automatic["enabled"],
        }
    return settings


def _check_confirm_only(params: Obj) -> None:
    for name in ("off_session", "return_url"):
        if params.get(name) is not None and not params.get("confirm"):
            raise invalid_request(f"You can only pass `{name}` when `confirm=true`.", param=name)


def _confirm(call: Call, intent: Obj) -> Obj:
    params = call.params
    for key in ("capture_method", "receipt_email", "setup_future_usage"):
        if params.get(key) is not None:
            intent[key] = params[key]
    # Only meaningful for this confirmation, so not part of the public object.
    intent["_return_url"] = params.get("return_url")
    intent["_off_session"] = params.get("off_session") not in (None, "false")
    error = payments.confirm(call.store, intent, call.origin, call.base_url)
    if error is not None:
        raise error
    return intent


def _payment_method_id(call: Call, customer_id: str | None) -> str | None:
    reference = call.params.get("payment_method")
    if not reference:
        return None
    return str(payments.resolve_payment_method(call.store, reference, customer_id)["id"])


def _create(call: Call) -> Obj:
    params = call.params
    currency = check_currency(params["currency"])
    check_charge_amount(params["amount"], currency)
    _check_confirm_only(params)
    settings = _payment_method_settings(params)
    customer = _customer_id(call)
    payment_method = _payment_method_id(call, customer)
    intent = call.store.create(
        "payment_intent",
        {
            "_authenticated_pm": None,
            "_off_session": False,
            "_return_url": None,
            "amount": params["amount"],
            "amount_capturable": 0,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "application": None,
            "application_fee_amount": None,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": params.get("capture_method") or "automatic_async",
            "client_secret": None,
            "confirmation_method": params.get("confirmation_method") or "automatic",
            "currency": currency,
            "customer": customer,
            "description": params.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "metadata": merge_metadata({}, params.get("metadata", {})),
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": payment_method,
            "payment_method_configuration_details": None,
            "payment_method_options": {
                "card": {
                    "installments": None,
                    "mandate_options": None,
                    "network": None,
                    "request_three_d_secure": "automatic",
                    **(params.get("payment_method_options") or {}).get("card", {}),
                }
            },
            "processing": None,
            "receipt_email": params.get("receipt_email"),
            "review": None,
            "setup_future_usage": params.get("setup_future_usage"),
            "shipping": None,
            "source": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": params.get("statement_descriptor_suffix"),
            "status": "requires_confirmation" if payment_method else "requires_payment_method",
            "transfer_data": None,
            "transfer_group": None,
            **settings,
        },
    )
    intent["client_secret"] = f"{intent['id']}_secret_{random_token(25)}"
    call.store.emit("payment_intent.created", intent, call.origin)
    return _confirm(call, intent) if params.get("confirm") else intent


def _retrieve(call: Call) -> Obj:
    return call.store.get("payment_intent", call.path["intent"], param="intent")


def _update(call: Call) -> Obj:
    intent, params = _retrieve(call), call.params
    if any(params.get(key) is not None for key in ("amount", "currency", "customer", "payment_method")):
        payments.require_status(intent, _OPEN, "update", "updated")
    changes: Obj = {
        key: params[key]
        for key in ("description", "receipt_email", "setup_future_usage", "statement_descriptor_suffix")
        if key in params
    }
    if params.get("capture_method") is not None:
        changes["capture_method"] = params["capture_method"]
    if "metadata" in params:
        changes["metadata"] = merge_metadata(intent["metadata"], params["metadata"])
    if params.get("amount") is not None or params.get("currency") is not None:
        currency = check_currency(params.get("currency") or intent["currency"])
        amount = params.get("amount") or intent["amount"]
        check_charge_amount(amount, currency)
        changes.update({"amount": amount, "currency": currency})
    if params.get("customer") is not None:
        changes["customer"] = _customer_id(call)
    payment_method = _payment_method_id(call, changes.get("customer", intent["customer"]))
    if payment_method is not None:
        changes.update({"payment_method": payment_method, "status": "requires_confirmation"})
    # Stripe: last_payment_error "will be cleared if the PaymentIntent is later updated for any reason".
    changes["last_payment_error"] = None
    intent.update(changes)  # PaymentIntents have no `*.updated` event
    return intent


def _confirm_endpoint(call: Call) -> Obj:
    intent = _retrieve(call)
    payments.require_status(intent, payments.CONFIRMABLE, "confirm", "confirmed")
    payment_method = _payment_method_id(call, intent["customer"])
    if payment_method is not None:
        intent["payment_method"] = payment_method
    return _confirm(call, intent)


def _search(call: Call) -> Obj:
    """`GET /v1/payment_intents/search`: eventually consistent, see `search.SearchIndex`."""
    query = parse_query(call.params["query"], "payment_intent")
    candidates = call.store.search_index.searchable(call.store.all("payment_intent"))
    return search_result(candidates, query, call.params, call.url)


def _capture(call: Call) -> Obj:
    intent = _retrieve(call)
    payments.capture(call.store, intent, call.params.get("amount_to_capture"), call.origin)
    if "metadata" in call.params:
        intent["metadata"] = merge_metadata(intent["metadata"], call.params["metadata"])
    return intent


def _cancel(call: Call) -> Obj:
    intent = _retrieve(call)
    payments.cancel(call.store, intent, call.params.get("cancellation_reason"), call.origin)
    return intent


def direct_payment(store: Store, amount: int, currency: str, metadata: dict[str, str], base_url: str) -> Obj:
    """A card payment made at Stripe itself (dashboard, another integration), captured at once:
    the same objects and events as through the API, with no request behind them."""
    params: Obj = {
        "amount": amount,
        "capture_method": "automatic",
        "confirm": True,
        "currency": currency,
        "metadata": metadata,
        "payment_method": "pm_card_visa",
    }
    return _create(Call(store, params, {}, SYSTEM, base_url, _BASE))


_BASE = "/v1/payment_intents"
ROUTES: list[Route] = [
    endpoint("POST", _BASE, _create, "payment_intent", _CREATE_FIELDS),
    list_endpoint(_BASE, "payment_intent", {"customer": String()}),
    endpoint(
        "GET",
        f"{_BASE}/search",
        _search,
        "search:payment_intent",
        {
            "limit": Integer(minimum=1, maximum=100),
            "page": String(),
            "query": String(required=True),
        },
    ),
    endpoint("GET", f"{_BASE}/{{intent}}", _retrieve, "payment_intent", {"client_secret": String()}),
    endpoint("POST", f"{_BASE}/{{intent}}", _update, "payment_intent", _UPDATE_FIELDS),
    endpoint(
        "POST",
        f"{_BASE}/{{intent}}/confirm",
        _confirm_endpoint,
        "payment_intent",
        {**_CONFIRM_FIELDS, "client_secret": String()},  # Stripe.js confirms with the client_secret
    ),
    endpoint(
        "POST",
        f"{_BASE}/{{intent}}/capture",
        _capture,
        "payment_intent",
        {"amount_to_capture": Integer(minimum=1), "metadata": Metadata()},
    ),
    endpoint(
        "POST",
        f"{_BASE}/{{intent}}/cancel",
        _cancel,
        "payment_intent",
        {"cancellation_reason": String(choices=_CANCELLATION_REASONS)},
    ),
]
