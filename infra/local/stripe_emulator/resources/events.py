"""Events: the log of every change, readable over the API as Stripe's `/v1/events`."""

from __future__ import annotations

from ..lists import paginate
from ..model import Obj
from ..params import ListOf, String
from ..routing import Call, Route, endpoint, list_endpoint


def type_matches(event_type: str, pattern: str) -> bool:
    """Stripe's filter syntax: an exact type, or a `*` wildcard such as `charge.dispute.*`."""
    if pattern.endswith("*"):
        return event_type.startswith(pattern[:-1])
    return event_type == pattern


def _list(call: Call) -> Obj:
    patterns = [call.params["type"]] if call.params.get("type") else call.params.get("types") or []
    items = [
        item
        for item in call.store.all("event")
        if not patterns or any(type_matches(item["type"], pattern) for pattern in patterns)
    ]
    return paginate(call.store, "event", items, call.params, call.url)


def _retrieve(call: Call) -> Obj:
    return call.store.get("event", call.path["id"], param="id")


ROUTES: list[Route] = [
    list_endpoint("/v1/events", "event", {"type": String(), "types": ListOf(String())}, _list),
    endpoint("GET", "/v1/events/{id}", _retrieve, "event"),
]
