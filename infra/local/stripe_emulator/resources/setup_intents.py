"""SetupIntents: saving a card for later payments with the customer's consent, and the 3-D Secure
challenge that may take (no charge is made).

    requires_payment_method -> requires_confirmation -> [requires_action] -> succeeded
                  ^                                           |
                  +------ decline / failed 3-D Secure --------+          (cancel from any open status)

On success the card is attached to the intent's customer (if it has one) and, with `usage=off_session`
(Stripe's default), set up for off-session payments: a card that asks for authentication only until
it is set up (`pm_card_authenticationRequiredOnSetup`) then pays off-session without a challenge.
"""

from __future__ import annotations

from ..errors import ApiError, invalid_request
from ..ids import random_token
from ..model import Obj, Origin, merge_metadata, public
from ..params import Boolean, Hash, ListOf, Metadata, Spec, String
from ..routing import Call, Route, endpoint, list_endpoint
from ..store import Store
from . import payment_methods, payments

SETUP_INTENT = "setup_intent"
CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
_CANCELABLE = CONFIRMABLE
_USAGES = ("off_session", "on_session")
_AUTHENTICATION_FAILED = (
    "The latest attempt to set up the payment method has failed because authentication failed."
)

_CONFIRM_FIELDS: dict[str, Spec] = {
    "client_secret": String(),
    "payment_method": String(),
    "return_url": String(),
}
_CREATE_FIELDS: dict[str, Spec] = {
    **_CONFIRM_FIELDS,
    "automatic_payment_methods": Hash(
        {"allow_redirects": String(choices=("always", "never")), "enabled": Boolean(required=True)}
    ),
    "confirm": Boolean(),
    "customer": String(),
    "description": String(max_length=1000),
    "metadata": Metadata(),
    "payment_method_types": ListOf(String()),
    "usage": String(choices=_USAGES),
}


def _require_status(intent: Obj, allowed: tuple[str, ...], verb: str, done: str) -> None:
    if intent["status"] not in allowed:
        raise invalid_request(
            f"You cannot {verb} this SetupIntent because it has a status of {intent['status']}. Only a "
            f"SetupIntent with one of the following statuses may be {done}: {', '.join(allowed)}.",
            code="setup_intent_unexpected_state",
            extra={"setup_intent": public(intent)},
        )


def _create(call: Call) -> Obj:
    params = call.params
    if params.get("return_url") is not None and not params.get("confirm"):
        raise invalid_request("You can only pass `return_url` when `confirm=true`.", param="return_url")
    if "card" not in (params.get("payment_method_types") or ["card"]):
        raise invalid_request(
            "The Stripe emulator only supports card payments; allow the `card` payment method type.",
            param="payment_method_types",
        )
    customer = None
    if params.get("customer") is not None:
        customer = str(call.store.get("customer", params["customer"], param="customer", status=400)["id"])
    payment_method = _payment_method_id(call, customer)
    intent = call.store.create(
        SETUP_INTENT,
        {
            "_return_url": None,
            "application": None,
            "automatic_payment_methods": params.get("automatic_payment_methods"),
            "cancellation_reason": None,
            "client_secret": None,
            "customer": customer,
            "description": params.get("description"),
            "flow_directions": None,
            "last_setup_error": None,
            "latest_attempt": None,
            "mandate": None,
            "metadata": merge_metadata({}, params.get("metadata", {})),
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": payment_method,
            "payment_method_options": {
                "card": {"mandate_options": None, "request_three_d_secure": "automatic"}
            },
            "payment_method_types": ["card"],
            "single_use_mandate": None,
            "status": "requires_confirmation" if payment_method else "requires_payment_method",
            "usage": params.get("usage") or "off_session",
        },
    )
    intent["client_secret"] = f"{intent['id']}_secret_{random_token(25)}"
    call.store.emit("setup_intent.created", intent, call.origin)
    return _confirm(call, intent) if params.get("confirm") else intent


def _payment_method_id(call: Call, customer_id: str | None) -> str | None:
    reference = call.params.get("payment_method")
    if not reference:
        return None
    return str(payments.resolve_payment_method(call.store, reference, customer_id)["id"])


def _confirm(call: Call, intent: Obj) -> Obj:
    _require_status(intent, CONFIRMABLE, "confirm", "confirmed")
    if intent["payment_method"] is None:
        raise invalid_request(
            "You cannot confirm this SetupIntent because it's missing a payment method. Update the "
            "SetupIntent with a payment method and then confirm it again.",
            code="setup_intent_unexpected_state",
            extra={"setup_intent": public(intent)},
        )
    intent["_return_url"] = call.params.get("return_url")
    intent["last_setup_error"] = None
    payment_method = call.store.get("payment_method", intent["payment_method"], param="payment_method")
    payment_methods.check_usable(payment_method, intent["customer"])
    card = payment_methods.test_card(payment_method)
    decline = card.attach_error()
    if decline is not None:
        error = ApiError(
            402,
            "card_error",
            decline.message,
            code=decline.code,
            decline_code=decline.decline_code,
            extra={"payment_method": public(payment_method)},
        )
        _failed(call.store, intent, error, call.origin)
        error.extra["setup_intent"] = public(intent)
        raise error
    if card.requires_authentication:
        intent.update(
            {
                "next_action": payments.three_d_secure_action(intent, call.base_url),
                "status": "requires_action",
            }
        )
        call.store.emit("setup_intent.requires_action", intent, call.origin)
        return intent
    _succeeded(call.store, intent, payment_method, call.origin)
    return intent


def authenticate(store: Store, intent: Obj, *, succeed: bool, origin: Origin) -> None:
    """The customer completes (or fails) the 3-D Secure challenge of a setup."""
    _require_status(intent, ("requires_action",), "authenticate", "authenticated")
    payment_method = store.get("payment_method", intent["payment_method"], param="payment_method")
    if not succeed:
        error = invalid_request(
            _AUTHENTICATION_FAILED,
            code="setup_intent_authentication_failure",
            extra={"payment_method": public(payment_method)},
        )
        _failed(store, intent, error, origin)
        return
    _succeeded(store, intent, payment_method, origin)


def _succeeded(store: Store, intent: Obj, payment_method: Obj, origin: Origin) -> None:
    if intent["customer"] is not None and payment_method["customer"] is None:
        customer = store.get("customer", intent["customer"], param="customer")
        payment_methods.attach(store, payment_method, customer, origin)
    if intent["usage"] == "off_session":
        payment_methods.mark_set_up_for_off_session(payment_method)
    intent.update({"last_setup_error": None, "next_action": None, "status": "succeeded"})
    store.emit("setup_intent.succeeded", intent, origin)


def _failed(store: Store, intent: Obj, error: ApiError, origin: Origin) -> None:
    """As a PaymentIntent after a failed attempt: the method is let go, the error kept."""
    intent.update(
        {
            "last_setup_error": error.body()["error"],
            "next_action": None,
            "payment_method": None,
            "status": "requires_payment_method",
        }
    )
    store.emit("setup_intent.setup_failed", intent, origin)


def _retrieve(call: Call) -> Obj:
    return call.store.get(SETUP_INTENT, call.path["intent"], param="intent")


def _update(call: Call) -> Obj:
    intent, params = _retrieve(call), call.params
    if params.get("payment_method") is not None or params.get("customer") is not None:
        _require_status(intent, CONFIRMABLE, "update", "updated")
    if params.get("customer") is not None:
        intent["customer"] = str(
            call.store.get("customer", params["customer"], param="customer", status=400)["id"]
        )
    payment_method = _payment_method_id(call, intent["customer"])
    if payment_method is not None:
        intent.update({"payment_method": payment_method, "status": "requires_confirmation"})
    if "description" in params:
        intent["description"] = params["description"]
    if "metadata" in params:
        intent["metadata"] = merge_metadata(intent["metadata"], params["metadata"])
    intent["last_setup_error"] = None
    return intent


def _confirm_endpoint(call: Call) -> Obj:
    intent = _retrieve(call)
    _require_status(intent, CONFIRMABLE, "confirm", "confirmed")
    payment_method = _payment_method_id(call, intent["customer"])
    if payment_method is not None:
        intent["payment_method"] = payment_method
    return _confirm(call, intent)


def _cancel(call: Call) -> Obj:
    intent = _retrieve(call)
    _require_status(intent, _CANCELABLE, "cancel", "canceled")
    intent.update(
        {
            "cancellation_reason": call.params.get("cancellation_reason"),
            "next_action": None,
            "status": "canceled",
        }
    )
    call.store.emit("setup_intent.canceled", intent, call.origin)
    return intent


_BASE = "/v1/setup_intents"
ROUTES: list[Route] = [
    endpoint("POST", _BASE, _create, SETUP_INTENT, _CREATE_FIELDS),
    list_endpoint(_BASE, SETUP_INTENT, {"customer": String(), "payment_method": String()}),
    endpoint("GET", f"{_BASE}/{{intent}}", _retrieve, SETUP_INTENT, {"client_secret": String()}),
    endpoint(
        "POST",
        f"{_BASE}/{{intent}}",
        _update,
        SETUP_INTENT,
        {
            "customer": String(),
            "description": String(max_length=1000),
            "metadata": Metadata(),
            "payment_method": String(),
        },
    ),
    endpoint("POST", f"{_BASE}/{{intent}}/confirm", _confirm_endpoint, SETUP_INTENT, _CONFIRM_FIELDS),
    endpoint(
        "POST",
        f"{_BASE}/{{intent}}/cancel",
        _cancel,
        SETUP_INTENT,
        {"cancellation_reason": String(choices=("abandoned", "duplicate", "requested_by_customer"))},
    ),
]
