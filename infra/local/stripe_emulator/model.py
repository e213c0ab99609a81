"""The object model shared by every resource: plain JSON-ready dicts.

Stripe objects are stored as the dicts the API returns, so a response, an event snapshot and a
webhook body are all just copies. Keys starting with `_` hold emulator-only state (for example which
test card a PaymentMethod came from) and are stripped from everything that leaves the emulator.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]


@dataclass(frozen=True)
class Origin:
    """The API request that caused a change; copied into `event.request`."""

    request_id: str | None = None
    idempotency_key: str | None = None


# Changes made by the emulator itself (automatic disputes, control API) have no request, as
# Stripe's own asynchronous events do.
SYSTEM = Origin()


def public(obj: Obj) -> Obj:
    """A deep copy without the emulator-only `_` keys."""
    return {key: _strip(value) for key, value in obj.items() if not key.startswith("_")}


def deleted_stub(obj: Obj) -> Obj:
    """What Stripe returns in place of a deleted object."""
    return {"id": obj["id"], "object": obj["object"], "deleted": True}


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return public(value)
    if isinstance(value, list):
        return [_strip(item) for item in value]
    return value


def apply(obj: Obj, changes: Mapping[str, Any]) -> Obj:
    """Update `obj` in place and return the old values of what changed (`previous_attributes`)."""
    previous = {
        key: copy.deepcopy(obj.get(key))
        for key, value in changes.items()
        if not key.startswith("_") and obj.get(key) != value
    }
    obj.update(changes)
    return previous


def merge_metadata(current: Mapping[str, str], update: Mapping[str, str] | None) -> dict[str, str]:
    """Stripe's metadata semantics: keys merge, an empty value deletes a key, `metadata=""` clears all."""
    if update is None:
        return {}
    merged = {**current, **update}
    return {key: value for key, value in merged.items() if value != ""}
