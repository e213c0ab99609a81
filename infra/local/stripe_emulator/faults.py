"""Fault injection: make the next matching API requests fail the ways Stripe can fail."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .errors import ApiError, api_error

FAULT_KINDS = ("rate_limit", "api_error", "disconnect")


@dataclass
class _Fault:
    method: str
    path_prefix: str
    kind: str
    remaining: int


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []

    def add(self, method: str, path_prefix: str, kind: str, times: int) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(_Fault(method.upper(), path_prefix, kind, times))

    def take(self, method: str, path: str) -> str | None:
        """The kind of the first fault matching this request, consuming one of its uses."""
        with self._lock:
            for fault in self._faults:
                if fault.method == method and path.startswith(fault.path_prefix):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault.kind
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


def fault_error(kind: str) -> ApiError:
    """The response for an injected `rate_limit` or `api_error` fault."""
    if kind == "rate_limit":
        # Stripe's 429: type invalid_request_error with code rate_limit (the SDK raises RateLimitError).
        return ApiError(
            429,
            "invalid_request_error",
            "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
            code="rate_limit",
        )
    return api_error("An unknown error occurred. (Injected by the Stripe emulator.)")
