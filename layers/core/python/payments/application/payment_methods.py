"""Saved payment methods: save (attach to the caller's Stripe customer), list, get, delete (detach).

Events. PaymentMethodSaved and PaymentMethodDeleted are published synchronously and a failed publish
fails the request (503). The idempotency record is not kept for a 5xx, so the client's retry with the
same key runs again: it finds the method already saved (or not yet removed) and publishes the same
event again, with the same event id, which subscribers dedupe. Hence the order of delete: detach in
Stripe, publish, then forget the method, so that a retry still finds something to announce.

Off-session use. Saved with `usage: off_session`, the method is set up at Stripe (a SetupIntent, the
customer's consent to merchant-initiated payments) once it is stored. A setup that needs the customer to
authenticate is answered with what the frontend needs (its client_secret and next_action); saving the
same method again after the customer authenticated records the setup's outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from payments.application.clock import now
from payments.application.commit import publish_or_fail
from payments.application.ports import (
    EventPublisher,
    Page,
    PaymentMethodGateway,
    PaymentMethodRepository,
)
from payments.domain.errors import NotFound
from payments.domain.payment_method import (
    SETUP_ENDED,
    MethodTaken,
    SameCardSaved,
    SavedPaymentMethod,
    SetupSnapshot,
    StripePaymentMethod,
    Usage,
    card_key,
    unusable_method,
)


@dataclass(frozen=True)
class Saved:
    method: SavedPaymentMethod
    created: bool  # False: this card was saved already and that method is returned
    setup: SetupSnapshot | None = None  # the off-session setup asked for, as Stripe answered it


def save_payment_method(
    customer_id: str,
    payment_method_id: str,
    methods: PaymentMethodRepository,
    gateway: PaymentMethodGateway,
    publisher: EventPublisher,
    *,
    usage: Usage = "on_session",
) -> Saved:
    # A test id (pm_card_visa) becomes a new PaymentMethod at each use: from here on use the real id.
    found = gateway.retrieve_payment_method(payment_method_id)
    seen = methods.before_save(customer_id, found.id, card_key(found.card))
    owner = seen.owner
    if (owner and owner.customer_id != customer_id) or found.customer not in (None, seen.stripe_customer):
        raise unusable_method()

    existing = seen.method
    if existing is None and seen.card_holder:
        existing = methods.get(customer_id, seen.card_holder)  # the same card, saved as another method
    if existing is None:
        try:
            existing = _attach_and_store(customer_id, found, seen.stripe_customer, methods, gateway)
        except MethodTaken:
            raise unusable_method() from None
        created = existing.id == found.id
    else:
        created = False
    setup = None
    if usage == "off_session" and not existing.off_session:
        existing, setup = _set_up_off_session(existing, methods, gateway)
    publish_or_fail(publisher, existing.saved_event())
    return Saved(existing, created, setup)


def _set_up_off_session(
    method: SavedPaymentMethod, methods: PaymentMethodRepository, gateway: PaymentMethodGateway
) -> tuple[SavedPaymentMethod, SetupSnapshot]:
    """The customer's consent to off-session payments: the setup asked for already, which may have
    waited for the customer to authenticate (saving again is how its outcome is recorded), or a new
    one when there is none or it can no longer succeed."""
    setup = gateway.retrieve_setup(method.setup_intent_id) if method.setup_intent_id else None
    if setup is None or setup.status in SETUP_ENDED:
        setup = gateway.set_up_off_session(method)
    updated = method.with_setup(setup)
    if updated != method:
        methods.record_setup(updated)
    return updated, setup


def _attach_and_store(
    customer_id: str,
    found: StripePaymentMethod,
    stripe_customer: str | None,
    methods: PaymentMethodRepository,
    gateway: PaymentMethodGateway,
) -> SavedPaymentMethod:
    if stripe_customer is None:
        # Stripe's key derives from our customer id: concurrent first saves get one Stripe customer.
        stripe_customer = methods.remember_stripe_customer(
            customer_id, gateway.create_customer(customer_id), now()
        )
    attached = gateway.attach_payment_method(found.id, stripe_customer)
    method = SavedPaymentMethod.attached(attached, customer_id, stripe_customer, now())
    try:
        methods.add(method)
    except SameCardSaved as same:
        # A concurrent request saved this card first: keep theirs, let go of ours.
        if same.existing_id != method.id:
            gateway.detach_payment_method(method.id)
        winner = methods.get(customer_id, same.existing_id)
        if winner is None:
            raise
        return winner
    return method


def get_payment_method(
    customer_id: str, payment_method_id: str, methods: PaymentMethodRepository
) -> SavedPaymentMethod:
    # Keyed by the caller: someone else's method is simply not there (404, no existence oracle).
    method = methods.get(customer_id, payment_method_id)
    if method is None:
        raise NotFound(f"payment method {payment_method_id} not found")
    return method


def list_payment_methods(
    customer_id: str, methods: PaymentMethodRepository, limit: int, start: dict[str, Any] | None
) -> Page[SavedPaymentMethod]:
    return methods.page(customer_id, limit, start)


def delete_payment_method(
    customer_id: str,
    payment_method_id: str,
    methods: PaymentMethodRepository,
    gateway: PaymentMethodGateway,
    publisher: EventPublisher,
) -> None:
    method = get_payment_method(customer_id, payment_method_id, methods)
    gateway.detach_payment_method(method.id)
    publish_or_fail(publisher, method.deleted_event(now()))
    methods.remove(method)
