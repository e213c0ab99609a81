"""Idempotency keys: the first result for a key is saved and replayed byte for byte.

As Stripe documents for API v1: "Stripe saves the status code and body of the first request made
with a given idempotency key after endpoint execution begins. Retries with the same key return the
saved response, including 500 errors." So every answer an endpoint produced once it started running
is saved, whatever its status (200, a 402 decline, a 400 from the handler, a 500). Nothing is saved
for requests rejected before that: failed authentication, parameter validation, an unknown URL,
429s, injected faults that happen before executing, and a request that collides with one still in
flight for the same key, which gets Stripe's 409 `idempotency_key_in_use`.

Keys are forgotten only on request (`forget`), standing in for Stripe pruning keys "after they're at
least 24 hours old"; a key reused after that executes again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .errors import ApiError, invalid_request

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class SavedResponse:
    endpoint: str  # "POST /v1/payment_intents"
    params: str  # canonical form of the decoded parameters
    status: int
    body: bytes
    request_id: str


class IdempotencyCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._saved: dict[tuple[str, str], SavedResponse] = {}
        self._in_flight: set[tuple[str, str]] = set()

    def begin(self, api_key: str, key: str, endpoint: str, params: str) -> SavedResponse | None:
        """The saved response to replay, or None after claiming the key for this request.

        Raises for a key reused with another endpoint or other parameters (400) and for a key that
        another request is still executing with (409). A claimed key must be released with end().
        """
        if len(key) > MAX_KEY_LENGTH:
            raise _error(f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters long.")
        with self._lock:
            saved = self._saved.get((api_key, key))
            if saved is None:
                if (api_key, key) in self._in_flight:
                    raise _in_use(key)
                self._in_flight.add((api_key, key))
                return None
        if saved.endpoint != endpoint:
            raise _error(
                "Keys for idempotent requests can only be used for the same endpoint they were first "
                f"used for ('{saved.endpoint}' vs '{endpoint}'). Try using a key other than '{key}' if "
                "you meant to execute a different request."
            )
        if saved.params != params:
            raise _error(
                "Keys for idempotent requests can only be used with the same parameters they were first "
                f"used with. Try using a key other than '{key}' if you meant to execute a different request."
            )
        return saved

    def end(self, api_key: str, key: str, response: SavedResponse | None) -> None:
        """Release a claimed key, saving the endpoint's response (None: it never started)."""
        with self._lock:
            if response is not None:
                self._saved[(api_key, key)] = response
            self._in_flight.discard((api_key, key))

    def forget(self, prefix: str = "") -> int:
        """Drop saved keys (those starting with `prefix`), as Stripe prunes keys after 24 hours."""
        with self._lock:
            doomed = [entry for entry in self._saved if entry[1].startswith(prefix)]
            for entry in doomed:
                del self._saved[entry]
            return len(doomed)

    def clear(self) -> None:
        with self._lock:
            self._saved.clear()


def _error(message: str) -> ApiError:
    return ApiError(400, "idempotency_error", message)


def _in_use(key: str) -> ApiError:
    return invalid_request(
        "There is currently another in-progress request using this Idempotent Key (that probably means "
        f"you submitted twice, and the other request is still going through): {key}. Please try again "
        "later.",
        code="idempotency_key_in_use",
        status=409,
    )
