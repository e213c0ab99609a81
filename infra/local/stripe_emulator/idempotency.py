"""Idempotency keys: the first result for a key is saved and replayed byte for byte.

Results are saved only once an endpoint has started executing, as Stripe documents: failed
authentication or parameter validation, 429s and 5xx answers are not saved, so a retry runs again.
Callers hold the store lock around lookup-execute-save, which is what keeps two concurrent requests
with the same key from both executing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .errors import ApiError

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class SavedResponse:
    endpoint: str  # "POST /v1/payment_intents"
    params: str  # canonical form of the decoded parameters
    status: int
    body: bytes
    request_id: str


def is_saved_status(status: int) -> bool:
    return status != 429 and status < 500


class IdempotencyCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._saved: dict[tuple[str, str], SavedResponse] = {}

    def lookup(self, api_key: str, key: str, endpoint: str, params: str) -> SavedResponse | None:
        """The saved response to replay, or None to execute; raises for a key reused differently."""
        if len(key) > MAX_KEY_LENGTH:
            raise _error(f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters long.")
        with self._lock:
            saved = self._saved.get((api_key, key))
        if saved is None:
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

    def save(self, api_key: str, key: str, response: SavedResponse) -> None:
        with self._lock:
            self._saved[(api_key, key)] = response

    def clear(self) -> None:
        with self._lock:
            self._saved.clear()


def _error(message: str) -> ApiError:
    return ApiError(400, "idempotency_error", message)
