"""Stripe resources: object construction, state transitions and their HTTP endpoints."""

from __future__ import annotations

from ..routing import Route
from . import (
    balance,
    charges,
    customers,
    disputes,
    events,
    payment_intents,
    payment_methods,
    payouts,
    refunds,
)

ROUTES: list[Route] = [
    *customers.ROUTES,
    *payment_methods.ROUTES,
    *payment_intents.ROUTES,
    *charges.ROUTES,
    *balance.ROUTES,
    *refunds.ROUTES,
    *disputes.ROUTES,
    *payouts.ROUTES,
    *events.ROUTES,
]
