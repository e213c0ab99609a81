"""The route table: which handler serves a method and path, and what parameters it accepts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from .errors import invalid_request
from .lists import LIST_FIELDS, paginate
from .model import Obj, Origin
from .params import ListOf, Spec, String
from .store import Store

_EXPAND = ListOf(String())


@dataclass
class Call:
    """Everything a handler needs: validated params, path ids, and where events come from."""

    store: Store
    params: Obj
    path: dict[str, str]
    origin: Origin
    base_url: str  # for links back into the emulator (3-D Secure pages)
    url: str  # the request path, reported as a list object's `url`


Handler = Callable[[Call], Obj]


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # e.g. "/v1/payment_intents/{intent}"; `{intent}` doubles as the 404 `param`
    handler: Handler
    fields: Mapping[str, Spec]
    result: str  # object type of the response ("charge", "list:charge"), for `expand` checks
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template)
        object.__setattr__(self, "_pattern", re.compile(regex))

    def match(self, path: str) -> dict[str, str] | None:
        found = self._pattern.fullmatch(path)
        if found is None:
            return None
        return {name: unquote(value) for name, value in found.groupdict().items()}


def endpoint(
    method: str, template: str, handler: Handler, result: str, fields: Mapping[str, Spec] | None = None
) -> Route:
    """Any endpoint accepts `expand` on top of its own parameters."""
    return Route(method, template, handler, {**(fields or {}), "expand": _EXPAND}, result)


def list_endpoint(
    template: str, kind: str, filters: Mapping[str, Spec] | None = None, handler: Handler | None = None
) -> Route:
    """A GET list endpoint: pagination parameters plus the endpoint's own filters.

    Without a handler, each filter selects the objects whose field of the same name equals it
    (`/v1/charges?customer=cus_...`), which is what most of Stripe's list filters do.
    """
    names = tuple(filters or {})
    if handler is None:

        def handler(call: Call) -> Obj:
            return list_matching(call, kind, names)

    return endpoint("GET", template, handler, f"list:{kind}", {**LIST_FIELDS, **(filters or {})})


def list_matching(call: Call, kind: str, names: Iterable[str], fixed: Mapping[str, Any] | None = None) -> Obj:
    """One page of the objects whose fields equal the given filter parameters (and `fixed`)."""
    wanted = {name: call.params[name] for name in names if call.params.get(name) is not None}
    wanted.update(fixed or {})
    items = [item for item in call.store.all(kind) if all(item.get(k) == v for k, v in wanted.items())]
    return paginate(call.store, kind, items, call.params, call.url)


class Router:
    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes = list(routes)

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        for route in self._routes:
            if route.method == method and (ids := route.match(path)) is not None:
                return route, ids
        raise invalid_request(
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we "
            "can help at https://support.stripe.com/.",
            status=404,
        )
