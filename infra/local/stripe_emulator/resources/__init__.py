"""Stripe resources: object construction, state transitions and their HTTP endpoints."""

from __future__ import annotations

from ..routing import Route
from . import (
    balance,
    charges,
    customers,
    disputes,
    events,
    files,
    payment_intents,
    payment_methods,
    payouts,
    radar,
    refunds,
    setup_intents,
)

ROUTES: list[Route] = [
    *customers.ROUTES,
    *payment_methods.ROUTES,
    *payment_intents.ROUTES,
    *setup_intents.ROUTES,
    *charges.ROUTES,
    *balance.ROUTES,
    *refunds.ROUTES,
    *disputes.ROUTES,
    *files.ROUTES,
    *payouts.ROUTES,
    *radar.ROUTES,
    *events.ROUTES,
]
