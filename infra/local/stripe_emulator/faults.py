"""Fault injection: make the next matching API requests fail the ways Stripe can fail.

| kind | what the client sees | did the request execute? |
|---|---|---|
| `rate_limit` | 429 | no |
| `api_error` (`when="before"`, the default) | 500 | no, and nothing is saved for its idempotency key |
| `api_error` with `when="after"` | 500, saved for its idempotency key and replayed | yes |
| `disconnect` | the connection closes without an answer | no |
| `drop_response` | the connection closes without an answer (a timeout) | yes, result saved for its key |
| `hold` | nothing until `release_held()`, then the normal answer | yes, after the release |

A held request has already claimed its idempotency key, so a concurrent request with the same key
gets Stripe's 409 `idempotency_key_in_use`; `wait_for_held()` tells a test when the hold started.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .errors import ApiError, api_error

FAULT_KINDS = ("rate_limit", "api_error", "disconnect", "drop_response", "hold")
WHEN = ("before", "after")


@dataclass
class Fault:
    method: str
    path_prefix: str
    kind: str
    remaining: int
    when: str = "before"  # "after": the request executes first (api_error only)


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._held = threading.Condition()
        self._holding = 0  # requests waiting in a hold
        self._release_generation = 0

    def add(self, method: str, path_prefix: str, kind: str, times: int, when: str = "before") -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        if when not in WHEN:
            raise ValueError(f"when must be before or after, not {when!r}")
        if when == "after" and kind != "api_error":
            raise ValueError(
                "only api_error can happen after executing (drop_response always does, the others never)"
            )
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(Fault(method.upper(), path_prefix, kind, times, when))

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching this request, consuming one of its uses."""
        with self._lock:
            for fault in self._faults:
                if fault.method == method and path.startswith(fault.path_prefix):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def hold(self) -> None:
        """Block the calling request until release_held() (or clear())."""
        with self._held:
            generation = self._release_generation
            self._holding += 1
            self._held.notify_all()
            try:
                self._held.wait_for(lambda: self._release_generation != generation)
            finally:
                self._holding -= 1
                self._held.notify_all()

    def wait_for_held(self, count: int, timeout: float) -> bool:
        with self._held:
            return self._held.wait_for(lambda: self._holding >= count, timeout)

    def release_held(self) -> int:
        with self._held:
            released = self._holding
            self._release_generation += 1
            self._held.notify_all()
            return released

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
        self.release_held()


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
