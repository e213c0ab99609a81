"""In-memory state: every object by id, in creation order, plus the event log.

One re-entrant lock guards all of it. API requests run entirely under the lock, which makes every
state transition atomic and gives idempotency keys their "never executes twice" guarantee for free;
the emulator is a test double, so throughput is not a concern. Webhook delivery happens outside it.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any, Protocol

from .errors import resource_missing
from .ids import new_id, now
from .model import Obj, Origin, public

# Any fixed string will do; this is the version the pinned SDK speaks.
API_VERSION = "2026-10-28.endive"

# object type -> (id prefix, name used in "No such ..." messages)
KINDS: dict[str, tuple[str, str]] = {
    "balance_transaction": ("txn", "balance transaction"),
    "charge": ("ch", "charge"),
    "customer": ("cus", "customer"),
    "dispute": ("dp", "dispute"),
    "event": ("evt", "event"),
    "payment_intent": ("pi", "payment_intent"),
    "payment_method": ("pm", "PaymentMethod"),
    "refund": ("re", "refund"),
}


class EventSink(Protocol):
    """Where new events go (the webhook dispatcher)."""

    def endpoint_count(self) -> int: ...

    def publish(self, event: Obj) -> None: ...


class Store:
    def __init__(self, sink: EventSink) -> None:
        self.lock = threading.RLock()
        self._sink = sink
        self._objects: dict[str, Obj] = {}
        self._sequence: dict[str, int] = {}
        self._counter = itertools.count()

    def reset(self) -> None:
        with self.lock:
            self._objects.clear()
            self._sequence.clear()

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
            "pending_webhooks": self._sink.endpoint_count(),
            "request": {"id": origin.request_id, "idempotency_key": origin.idempotency_key},
            "type": event_type,
        }
        with self.lock:
            event = self.create("event", fields)
            self._sink.publish(public(event))
        return event

    def webhook_delivered(self, event_id: str) -> None:
        with self.lock:
            event = self._objects.get(event_id)
            if event is not None and event["pending_webhooks"] > 0:
                event["pending_webhooks"] -= 1
