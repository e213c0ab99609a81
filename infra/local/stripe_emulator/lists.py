"""Stripe list objects: newest first, cursor pagination with `starting_after` / `ending_before`."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable

from .errors import invalid_request, resource_missing
from .model import Obj
from .params import Integer, RangeFilter, Spec, String
from .store import KINDS, Store

LIST_FIELDS: dict[str, Spec] = {
    "created": RangeFilter(),
    "ending_before": String(),
    "limit": Integer(minimum=1, maximum=100),
    "starting_after": String(),
}

_DEFAULT_LIMIT = 10
_BOUNDS: dict[str, Callable[[int, int], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def within(value: int, bounds: Obj) -> bool:
    """Whether a timestamp satisfies a range filter (`{"gte": ..., "lt": ...}`)."""
    return all(_BOUNDS[bound](value, limit) for bound, limit in bounds.items())


def list_object(data: list[Obj], *, has_more: bool, url: str) -> Obj:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def paginate(store: Store, kind: str, items: Iterable[Obj], params: Obj, url: str) -> Obj:
    """One page of `items` (given oldest first, already filtered by the endpoint)."""
    limit = params.get("limit") or _DEFAULT_LIMIT
    created = params.get("created") or {}
    newest_first = [item for item in reversed(list(items)) if within(item["created"], created)]
    after, before = params.get("starting_after"), params.get("ending_before")
    if after and before:
        raise invalid_request(
            "You may only specify one of these parameters: ending_before, starting_after.",
            code="parameters_exclusive",
        )
    if after:
        cursor = _cursor(store, kind, after, "starting_after")
        older = [item for item in newest_first if _seq(store, item) < cursor]
        return list_object(older[:limit], has_more=len(older) > limit, url=url)
    if before:
        cursor = _cursor(store, kind, before, "ending_before")
        newer = [item for item in newest_first if _seq(store, item) > cursor]
        return list_object(newer[-limit:], has_more=len(newer) > limit, url=url)
    return list_object(newest_first[:limit], has_more=len(newest_first) > limit, url=url)


def _seq(store: Store, item: Obj) -> int:
    return store.sequence(item["id"]) or 0


def _cursor(store: Store, kind: str, object_id: str, param: str) -> int:
    position = store.sequence(object_id)
    if position is None:
        raise resource_missing(KINDS[kind][1], object_id, param, status=400)
    return position
