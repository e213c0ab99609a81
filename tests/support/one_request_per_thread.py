"""Lambda runs one request per process at a time, so Powertools keeps the current request on its router
class (`BaseRouter.current_event`, `.lambda_context`) and the validated route arguments on the
resolver (`app.context`: body, headers, path). The in-process tests run concurrent requests on threads
of one process: without this, a request could use another's headers or body (its Idempotency-Key,
say). Here that state is kept per thread, as Lambda keeps it per process."""

from __future__ import annotations

import threading
from abc import ABCMeta
from typing import Any

_state = threading.local()
NAMES = ("current_event", "lambda_context")


class _PerThread:
    """On the router's metaclass: `BaseRouter.current_event = x` lands in this thread's state."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        return getattr(_state, self.name, None)

    def __set__(self, obj: Any, value: Any) -> None:
        setattr(_state, self.name, value)


class _RouterMeta(ABCMeta):
    current_event = _PerThread("current_event")
    lambda_context = _PerThread("lambda_context")


def _per_thread_property(name: str) -> property:
    def get(self: Any) -> Any:
        return getattr(_state, name, None)

    def set_(self: Any, value: Any) -> None:
        setattr(_state, name, value)

    return property(get, set_)


def _per_thread_context() -> property:
    """Each resolver's `context` dict, one per thread."""

    def contexts() -> dict[int, dict[str, Any]]:
        if not hasattr(_state, "contexts"):
            _state.contexts = {}
        found: dict[int, dict[str, Any]] = _state.contexts
        return found

    def get(self: Any) -> dict[str, Any]:
        return contexts().setdefault(id(self), {})

    def set_(self: Any, value: dict[str, Any]) -> None:
        contexts()[id(self)] = value

    return property(get, set_)


def install() -> None:
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    if isinstance(BaseRouter, _RouterMeta):
        return
    for name in NAMES:  # instances (app.current_event) read and write the same per-thread state
        type.__setattr__(BaseRouter, name, _per_thread_property(name))
    type.__setattr__(BaseRouter, "context", _per_thread_context())
    BaseRouter.__class__ = _RouterMeta
