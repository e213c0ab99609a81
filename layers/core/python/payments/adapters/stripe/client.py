"""What every Stripe adapter shares: the SDK client, asked for on each call, so a rotated API key is
used from the next call on (services.stripe_client keeps one client per key)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class StripeAdapter:
    def __init__(self, client_factory: Callable[[], Any]) -> None:
        self._client_factory = client_factory

    @property
    def _stripe(self) -> Any:
        return self._client_factory()
