"""Idempotency-Key semantics of DESIGN section 3, on the Powertools idempotency utility.

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

from payments.adapters.aws import client
from payments.config import settings
from payments.domain.errors import (
    ConcurrentUpdate,
    IdempotencyKeyInvalid,
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
    PaymentsError,
    RequestInProgress,
)
from payments.http.auth import Caller
from payments.http.problems import problem_body

MAX_KEY_LENGTH = 255
# The records of every operation share one key space: a key names one request of its caller.
KEY_PREFIX = "api"


@dataclass
class ApiResult:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False

    def as_record(self) -> dict[str, Any]:
        return {"status": self.status, "body": self.body, "headers": self.headers}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ApiResult:
        return cls(
            record["status"], record.get("body"), record.get("headers") or {}, bool(record.get("replayed"))
        )


def _storable(error: PaymentsError) -> bool:
    """Client-side outcomes are final; server faults, throttling, lost races and a request still
    running (here or at Stripe) are retried."""
    retried = (ConcurrentUpdate, RequestInProgress)
    return 400 <= error.status < 500 and error.status != 429 and not isinstance(error, retried)


def require_key(key: str | None, *, method: str = "POST") -> str:
    """The request's Idempotency-Key. Required on POST; on DELETE, where it is optional, a key that is
    sent must still be one."""
    if key is None or (method != "DELETE" and not key.strip()):
        raise IdempotencyKeyMissing("send an Idempotency-Key header (e.g. a UUID) with every POST")
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
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    config, execute = _runner()
    if lambda_context is not None:
        # Lets an in-progress record expire with the invocation, so a crashed attempt can be retried.
        config.register_lambda_context(lambda_context)
    request = {"caller": caller.sub, "key": key, "operation": operation, "resource": resource, "body": body}
    try:
        record = execute(request=request, produce=produce)
    except IdempotencyAlreadyInProgressError:
        raise RequestInProgress(
            "a request with this Idempotency-Key is still running; retry shortly"
        ) from None
    except IdempotencyValidationError:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used for another request (another operation, resource or "
            "body); send a new key for each request"
        ) from None
    return ApiResult.from_record(record)


_RUNNERS: dict[str, tuple[Any, Callable[..., dict[str, Any]]]] = {}


def _runner() -> tuple[Any, Callable[..., dict[str, Any]]]:
    if KEY_PREFIX not in _RUNNERS:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        persistence = DynamoDBPersistenceLayer(
            table_name=settings().require("idempotency_table"), boto3_client=client("dynamodb")
        )
        config = IdempotencyConfig(
            event_key_jmespath="[caller, key]",
            payload_validation_jmespath="[operation, resource, body]",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=settings().idempotency_ttl_seconds,
            response_hook=_mark_replayed,
        )

        @idempotent_function(
            data_keyword_argument="request",
            persistence_store=persistence,
            config=config,
            key_prefix=KEY_PREFIX,
        )
        def execute(request: dict[str, Any], produce: Callable[[], ApiResult]) -> dict[str, Any]:
            try:
                return produce().as_record()
            except PaymentsError as error:
                if not _storable(error):
                    raise  # the record is deleted: the client may retry with the same key
                return ApiResult(
                    error.status, problem_body(error), {"Content-Type": "application/problem+json"}
                ).as_record()

        _RUNNERS[KEY_PREFIX] = (config, execute)
    return _RUNNERS[KEY_PREFIX]


def _mark_replayed(response: Any, idempotent_data: Any) -> Any:
    return {**response, "replayed": True}


def reset() -> None:
    _RUNNERS.clear()
