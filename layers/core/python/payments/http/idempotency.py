"""Idempotency-Key semantics (docs/architecture.md, Money rules), on the one Powertools idempotency
runner (adapters/dynamodb/idempotency.py).

- one record per caller and key, whatever the operation (two customers may use the same key);
- the record is bound to the request: its operation, its resource (the route with its path parameters,
  e.g. /payments/pay_1/capture) and its body;
- same key, same request: the first response (status and body) replayed, with `Idempotent-Replayed:
  true`;
- same key, another request (another body, another resource such as a second payment, another route):
  422 idempotency_key_reused, as Stripe answers; nothing runs. Same key still running: 409
  request_in_progress (422 if that running request is another one);
- final outcomes are kept, including 4xx answers such as a decline; 5xx and 429 are not, so a retry
  runs again (and resumes the same payment through its derived id).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from payments.domain.errors import (
    ConcurrentUpdate,
    IdempotencyKeyInvalid,
    IdempotencyKeyMissing,
    PaymentsError,
    RequestInProgress,
)
from payments.http.auth import Caller
from payments.http.problems import PROBLEM_JSON, error_body

MAX_KEY_LENGTH = 255


@dataclass
class ApiResult:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False

    def as_record(self) -> dict[str, Any]:
        return {"status": self.status, "body": self.body, "headers": self.headers}

    @classmethod
    def from_record(cls, record: dict[str, Any], replayed: bool = False) -> ApiResult:
        return cls(record["status"], record.get("body"), record.get("headers") or {}, replayed)


def _storable(error: PaymentsError) -> bool:
    """Client-side outcomes are final; server faults, throttling, lost races and a request still
    running (here or at Stripe) are retried."""
    retried = (ConcurrentUpdate, RequestInProgress)
    return 400 <= error.status < 500 and error.status != 429 and not isinstance(error, retried)


def require_key(key: str | None, *, method: str = "POST") -> str:
    """The request's Idempotency-Key. Required on POST and PUT; on DELETE, where it is optional, a key that is
    sent must still be one."""
    if key is None or (method != "DELETE" and not key.strip()):
        raise IdempotencyKeyMissing(f"send an Idempotency-Key header (e.g. a UUID) with every {method}")
    if not key.strip():
        raise IdempotencyKeyInvalid(
            f"the Idempotency-Key header is empty: on {method} it is optional, so send a unique key "
            "(e.g. a UUID) to make retries safe, or leave the header out"
        )
    if len(key) > MAX_KEY_LENGTH:
        raise IdempotencyKeyInvalid(f"the Idempotency-Key must be at most {MAX_KEY_LENGTH} characters")
    return key


def run_idempotent(
    operation: str,
    caller: Caller,
    key: str,
    body: Any,
    produce: Callable[[], ApiResult],
    *,
    resource: str,
    lambda_context: Any = None,
) -> ApiResult:
    """`produce`'s result, once per (caller, key); `resource` is the request's path (the route's
    template with its parameters), which the record is bound to with the operation and the body."""
    from payments import services

    def execute() -> dict[str, Any]:
        try:
            return produce().as_record()
        except PaymentsError as error:
            if not _storable(error):
                raise  # the record is deleted: the client may retry with the same key
            return ApiResult(error.status, error_body(error), {"Content-Type": PROBLEM_JSON}).as_record()

    request = {"caller": caller.sub, "key": key, "operation": operation, "resource": resource, "body": body}
    record, replayed = services.api_requests().run(request, execute, lambda_context)
    return ApiResult.from_record(record, replayed=replayed)
