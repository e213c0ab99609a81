"""In-memory state: every object by id, in creation order, plus the event log.

One re-entrant lock guards all of it. API requests run entirely inside `transaction()`, which makes
every state transition atomic; the emulator is a test double, so throughput is not a concern.
Webhook delivery happens outside it: a transaction's events are handed over when it ends.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import resource_missing
from .ids import new_id, now
from .model import Obj, Origin, public
from .search import SearchIndex

# Any fixed string will do; this is the version the pinned SDK speaks.
API_VERSION = "2026-10-28.endive"

# object type -> (id prefix, name used in "No such ..." messages)
KINDS: dict[str, tuple[str, str]] = {
    "balance_transaction": ("txn", "balance transaction"),
    "charge": ("ch", "charge"),
    "customer": ("cus", "customer"),
    "dispute": ("dp", "dispute"),
    "event": ("evt", "event"),
    "file": ("file", "file upload"),
    "payment_intent": ("pi", "payment_intent"),
    "payment_method": ("pm", "PaymentMethod"),
    "payout": ("po", "payout"),
    "radar.early_fraud_warning": ("issfr", "early fraud warning"),
    "refund": ("re", "refund"),
    "setup_intent": ("seti", "setup_intent"),
    "review": ("prv", "review"),
}


class EventSink(Protocol):
    """Where new events go (the webhook dispatcher)."""

    def endpoint_count(self) -> int: ...

    def publish(self, event: Obj) -> None: ...

    def batch(self) -> AbstractContextManager[None]: ...


@dataclass
class Settings:
    """Behaviour switches the control API can flip at run time."""

    # Every captured charge gets its balance transaction only when settled (as automatic_async
    # captures always do), instead of at capture.
    async_balance_transactions: bool = False
    # Charges' balance transactions start `pending` and count in the pending balance (not paid out)
    # until `balance_transactions/make_available`, instead of being `available` at once.
    pending_balance: bool = False
    # Automatic payouts stay `pending` until `payouts/{id}/pay`, instead of being paid at once.
    hold_payouts: bool = False
    # Radar's default rules (resources/radar.py): "Review if :risk_level: = 'elevated'", on by default
    # as with Radar for Fraud Teams, and "Block if :risk_level: = 'highest'".
    review_elevated_risk: bool = True
    block_highest_risk: bool = True


# Object types the Search API serves.
SEARCHABLE = ("payment_intent",)


class Store:
    def __init__(self, sink: EventSink, settings: Settings | None = None) -> None:
        self.lock = threading.RLock()
        self.settings = settings or Settings()
        self.search_index = SearchIndex()
        self._sink = sink
        self._objects: dict[str, Obj] = {}
        self._sequence: dict[str, int] = {}
        self._counter = itertools.count()
        self._depth = 0
        self._muted = 0

    def reset(self) -> None:
        with self.lock:
            self._objects.clear()
            self._sequence.clear()
            self.search_index.clear()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock for one request or control action; its events are queued when it ends.

        On the way out the search index notes what changed (only when a search lag is set).
        """
        with self.lock, self._sink.batch():
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    for kind in SEARCHABLE:
                        self.search_index.observe(self.all(kind))

    @contextmanager
    def muted(self) -> Iterator[None]:
        """Events emitted inside are recorded (`/v1/events`) but never delivered to an endpoint,
        like events whose webhooks were lost."""
        with self.lock:
            self._muted += 1
            try:
                yield
            finally:
                self._muted -= 1

    def create(self, kind: str, fields: Obj) -> Obj:
        """Store a new object; keys are sorted after `id` and `object`, as Stripe prints them."""
        object_id = new_id(KINDS[kind][0])
        body = {**fields, "created": now(), "livemode": False}
        obj: Obj = {"id": object_id, "object": kind, **dict(sorted(body.items()))}
        with self.lock:
            self._objects[object_id] = obj
            self._sequence[object_id] = next(self._counter)
        return obj

    def find(self, object_id: str) -> Obj | None:
        return self._objects.get(object_id)

    def get(
        self, kind: str, object_id: str, *, param: str, status: int = 404, include_deleted: bool = False
    ) -> Obj:
        """The object, or Stripe's `resource_missing` (deleted objects count as missing)."""
        obj = self._objects.get(object_id)
        if obj is None or obj["object"] != kind or (obj.get("_deleted") and not include_deleted):
            raise resource_missing(KINDS[kind][1], object_id, param, status=status)
        return obj

    def all(self, kind: str) -> list[Obj]:
        """Every live object of a kind, oldest first."""
        with self.lock:
            return [
                obj for obj in self._objects.values() if obj["object"] == kind and not obj.get("_deleted")
            ]

    def sequence(self, object_id: str) -> int | None:
        """Creation order, used as the pagination cursor (ids themselves are random)."""
        return self._sequence.get(object_id)

    def emit(self, event_type: str, obj: Obj, origin: Origin, previous: Obj | None = None) -> Obj:
        """Record an event carrying a snapshot of `obj` and hand it to webhook delivery."""
        data: Obj = {"object": public(obj)}
        if previous:
            data["previous_attributes"] = public(previous)
        fields: dict[str, Any] = {
            "api_version": API_VERSION,
            "data": data,
            "pending_webhooks": 0 if self._muted else self._sink.endpoint_count(),
            "request": {"id": origin.request_id, "idempotency_key": origin.idempotency_key},
            "type": event_type,
        }
        with self.lock:
            event = self.create("event", fields)
            if not self._muted:
                self._sink.publish(public(event))
        return event

    def webhook_delivered(self, event_id: str) -> None:
        with self.lock:
            event = self._objects.get(event_id)
            if event is not None and event["pending_webhooks"] > 0:
                event["pending_webhooks"] -= 1
