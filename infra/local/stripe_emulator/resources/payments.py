"""The PaymentIntent state machine: confirm, 3-D Secure, capture and cancel.

Statuses follow Stripe's documented lifecycle:

    requires_payment_method -> requires_confirmation -> [requires_action] -> requires_capture -> succeeded
                  ^                                           |
                  +----------- decline / failed 3DS ----------+           (cancel from any open status)

Declines are returned as an ApiError rather than raised, because the control API continues payments
outside any HTTP request and has nobody to raise them to; the endpoint raises them.
"""

from __future__ import annotations

from ..cards import AUTHENTICATION_REQUIRED, Decline
from ..errors import ApiError, invalid_request, unexpected_state
from ..ids import new_id, now
from ..model import Obj, Origin, public
from ..store import Store
from . import charges, disputes, payment_methods, radar

CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
_AUTHENTICATION_FAILED = (
    "The provided PaymentMethod has failed authentication. You can provide payment_method_data or a "
    "new PaymentMethod to attempt to fulfill this PaymentIntent again."
)


def require_status(intent: Obj, allowed: tuple[str, ...], verb: str, done: str) -> None:
    if intent["status"] not in allowed:
        raise unexpected_state(
            f"You cannot {verb} this PaymentIntent because it has a status of {intent['status']}. "
            f"Only a PaymentIntent with one of the following statuses may be {done}: {', '.join(allowed)}.",
            public(intent),
        )


def resolve_payment_method(store: Store, reference: str, customer_id: str | None) -> Obj:
    """The PaymentMethod named by a request, checked for use with the intent's customer."""
    payment_method = payment_methods.materialize(store, reference, param="payment_method")
    payment_methods.check_usable(payment_method, customer_id)
    return payment_method


def confirm(store: Store, intent: Obj, origin: Origin, base_url: str) -> ApiError | None:
    require_status(intent, CONFIRMABLE, "confirm", "confirmed")
    if intent["payment_method"] is None:
        raise unexpected_state(
            "You cannot confirm this PaymentIntent because it's missing a payment method. Update the "
            "PaymentIntent with a payment method and then confirm it again.",
            public(intent),
        )
    payment_method = store.get("payment_method", intent["payment_method"], param="payment_method")
    payment_methods.check_usable(payment_method, intent["customer"])
    # "The payment error encountered in the previous PaymentIntent confirmation": a new attempt
    # starts without one (and sets it again if it fails too).
    intent["last_payment_error"] = None
    return _attempt(store, intent, payment_method, origin, base_url)


def authenticate(store: Store, intent: Obj, *, succeed: bool, origin: Origin, base_url: str) -> None:
    """The customer completes (or fails) the 3-D Secure challenge."""
    require_status(intent, ("requires_action",), "authenticate", "authenticated")
    payment_method = store.get("payment_method", intent["payment_method"], param="payment_method")
    if not succeed:
        error = invalid_request(
            _AUTHENTICATION_FAILED,
            code="payment_intent_authentication_failure",
            extra={"payment_method": public(payment_method)},
        )
        _back_to_requires_payment_method(store, intent, payment_method, error, origin)
        return
    intent.update({"_authenticated_pm": payment_method["id"], "next_action": None})
    if intent["confirmation_method"] == "manual":
        # The server has to confirm again; that confirmation will not ask for 3DS a second time.
        intent["status"] = "requires_confirmation"
        return
    # Cards that ask for 3DS succeed once authenticated, so there is no decline to report here.
    _attempt(store, intent, payment_method, origin, base_url)


def capture(store: Store, intent: Obj, amount: int | None, origin: Origin) -> None:
    require_status(intent, ("requires_capture",), "capture", "captured")
    capturable = intent["amount_capturable"]
    amount = capturable if amount is None else amount
    if amount > capturable:
        raise invalid_request(
            f"The amount_to_capture ({amount}) must be less than or equal to the amount_capturable "
            f"({capturable}).",
            code="amount_too_large",
            param="amount_to_capture",
            extra={"payment_intent": public(intent)},
        )
    charge = store.get("charge", intent["latest_charge"], param="charge")
    charges.capture(store, charge, amount, origin, asynchronous=store.settings.async_balance_transactions)
    intent.update({"amount_capturable": 0, "amount_received": amount, "status": "succeeded"})
    store.emit("payment_intent.succeeded", intent, origin)
    _after_capture(store, charge)


def cancel(store: Store, intent: Obj, reason: str | None, origin: Origin) -> None:
    require_status(intent, CANCELABLE, "cancel", "canceled")
    if intent["status"] == "requires_capture":
        charge = store.get("charge", intent["latest_charge"], param="charge")
        charges.release(store, charge, origin)
        radar.close_open_review(store, charge, "canceled", origin)
    _canceled(store, intent, reason, origin)


def expire(store: Store, intent: Obj, origin: Origin) -> None:
    """The authorization ran out uncaptured (cards: about 7 days): Stripe releases the hold and cancels
    the intent itself (`cancellation_reason: automatic`)."""
    if intent["status"] != "requires_capture":
        raise invalid_request(
            f"PaymentIntent {intent['id']} has no authorization to expire: its status is {intent['status']}.",
            param="payment_intent",
        )
    charge = store.get("charge", intent["latest_charge"], param="charge")
    charges.expire(store, charge, origin)
    radar.close_open_review(store, charge, "canceled", origin)
    _canceled(store, intent, "automatic", origin)


def _canceled(store: Store, intent: Obj, reason: str | None, origin: Origin) -> None:
    intent.update(
        {
            "amount_capturable": 0,
            "canceled_at": now(),
            "cancellation_reason": reason,
            "next_action": None,
            "status": "canceled",
        }
    )
    store.emit("payment_intent.canceled", intent, origin)


def _attempt(
    store: Store, intent: Obj, payment_method: Obj, origin: Origin, base_url: str
) -> ApiError | None:
    card = payment_methods.test_card(payment_method)
    authenticated = intent["_authenticated_pm"] == payment_method["id"]
    if card.requires_authentication and not authenticated:
        if not intent["_off_session"]:
            _require_action(store, intent, origin, base_url)
            return None
        if not (card.off_session_once_set_up and payment_methods.set_up_for_off_session(payment_method)):
            # Nobody is there to authenticate: Stripe declines instead of asking (the intent goes back
            # to requires_payment_method, the customer can confirm it on-session).
            return _decline(
                store, intent, payment_method, AUTHENTICATION_REQUIRED, origin, authenticated=authenticated
            )
    decline = radar.decline_for(card, store.settings)
    if decline is not None:
        return _decline(store, intent, payment_method, decline, origin, authenticated=authenticated)
    _succeed(store, intent, payment_method, origin, authenticated=authenticated)
    return None


def _succeed(store: Store, intent: Obj, payment_method: Obj, origin: Origin, *, authenticated: bool) -> None:
    manual = intent["capture_method"] == "manual"
    asynchronous = intent["capture_method"] == "automatic_async" or store.settings.async_balance_transactions
    charge = charges.record_success(
        store,
        intent,
        payment_method,
        origin,
        capture=not manual,
        authenticated=authenticated,
        asynchronous=asynchronous,
    )
    if intent["setup_future_usage"] and intent["customer"] and payment_method["customer"] is None:
        customer = store.get("customer", intent["customer"], param="customer")
        payment_methods.attach(store, payment_method, customer, origin)
    if intent["setup_future_usage"] == "off_session" and intent["customer"]:
        payment_methods.mark_set_up_for_off_session(payment_method)
    _consume(payment_method)
    intent.update({"last_payment_error": None, "latest_charge": charge["id"], "next_action": None})
    if manual:
        intent.update({"amount_capturable": intent["amount"], "status": "requires_capture"})
        store.emit("payment_intent.amount_capturable_updated", intent, origin, {"amount_capturable": 0})
        return
    intent.update({"amount_received": intent["amount"], "status": "succeeded"})
    store.emit("payment_intent.succeeded", intent, origin)
    _after_capture(store, charge)


def _after_capture(store: Store, charge: Obj) -> None:
    """What the test cards make the cardholder or the issuer do once the money moved."""
    radar.warn_if_card_warns(store, charge)
    disputes.open_if_card_disputes(store, charge)


def _decline(
    store: Store, intent: Obj, payment_method: Obj, decline: Decline, origin: Origin, *, authenticated: bool
) -> ApiError:
    charge = charges.record_failure(
        store, intent, payment_method, decline, origin, authenticated=authenticated
    )
    error = ApiError(
        402,
        "card_error",
        decline.message,
        code=decline.code,
        decline_code=decline.decline_code,
        extra={"charge": charge["id"], "payment_method": public(payment_method)},
    )
    intent["latest_charge"] = charge["id"]
    _back_to_requires_payment_method(store, intent, payment_method, error, origin)
    error.extra["payment_intent"] = public(intent)
    return error


def _back_to_requires_payment_method(
    store: Store, intent: Obj, payment_method: Obj, error: ApiError, origin: Origin
) -> None:
    """After a failure Stripe detaches the method from the intent and records why it failed."""
    _consume(payment_method)
    intent.update(
        {
            "_authenticated_pm": None,
            "last_payment_error": error.body()["error"],
            "next_action": None,
            "payment_method": None,
            "status": "requires_payment_method",
        }
    )
    store.emit("payment_intent.payment_failed", intent, origin)


def _require_action(store: Store, intent: Obj, origin: Origin, base_url: str) -> None:
    intent.update({"next_action": three_d_secure_action(intent, base_url), "status": "requires_action"})
    store.emit("payment_intent.requires_action", intent, origin)


def three_d_secure_action(intent: Obj, base_url: str) -> Obj:
    """The `next_action` of a PaymentIntent or SetupIntent whose card asks for 3-D Secure: the
    emulator's challenge page, as a redirect when the confirmation gave a `return_url`."""
    page = f"{base_url}/_emulator/3ds/{intent['id']}"
    return_url = intent["_return_url"]
    if return_url:
        return {"redirect_to_url": {"return_url": return_url, "url": page}, "type": "redirect_to_url"}
    return {
        "type": "use_stripe_sdk",
        "use_stripe_sdk": {"source": new_id("src"), "stripe_js": page, "type": "three_d_secure_redirect"},
    }


def _consume(payment_method: Obj) -> None:
    """A method charged without being attached to a customer is single-use, as in Stripe."""
    if payment_method["customer"] is None:
        payment_method["_consumed"] = True
