"""Idempotency-Key semantics of DESIGN section 3, on the Powertools idempotency utility.

- scoped to the caller and the operation (two customers may use the same key);
- same key and body: the first response (status and body) replayed, with `Idempotent-Replayed: true`;
- same key, other body: 422 idempotency_key_reused; same key still running: 409 request_in_progress;
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
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
    PaymentsError,
    RequestInProgress,
)
from payments.http.auth import Caller
from payments.http.problems import problem_body

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
    def from_record(cls, record: dict[str, Any]) -> ApiResult:
        return cls(
            record["status"], record.get("body"), record.get("headers") or {}, bool(record.get("replayed"))
        )


def _storable(error: PaymentsError) -> bool:
    """Client-side outcomes are final; server faults, throttling and lost races are retried."""
    return 400 <= error.status < 500 and error.status != 429 and not isinstance(error, ConcurrentUpdate)


def require_key(key: str | None) -> str:
    if not key or not key.strip():
        raise IdempotencyKeyMissing("send an Idempotency-Key header (e.g. a UUID) with every POST")
    if len(key) > MAX_KEY_LENGTH:
        raise IdempotencyKeyMissing(f"the Idempotency-Key must be at most {MAX_KEY_LENGTH} characters")
    return key


def run_idempotent(
    operation: str,
    caller: Caller,
    key: str,
    body: Any,
    produce: Callable[[], ApiResult],
    *,
    lambda_context: Any = None,
) -> ApiResult:
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    config, execute = _runner(operation)
    if lambda_context is not None:
        # Lets an in-progress record expire with the invocation, so a crashed attempt can be retried.
        config.register_lambda_context(lambda_context)
    request = {"operation": operation, "caller": caller.sub, "key": key, "body": body}
    try:
        record = execute(request=request, produce=produce)
    except IdempotencyAlreadyInProgressError:
        raise RequestInProgress(
            "a request with this Idempotency-Key is still running; retry shortly"
        ) from None
    except IdempotencyValidationError:
        raise IdempotencyKeyReused("this Idempotency-Key was already used with a different request") from None
    return ApiResult.from_record(record)


_RUNNERS: dict[str, tuple[Any, Callable[..., dict[str, Any]]]] = {}


def _runner(operation: str) -> tuple[Any, Callable[..., dict[str, Any]]]:
    if operation not in _RUNNERS:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        persistence = DynamoDBPersistenceLayer(
            table_name=settings().require("idempotency_table"), boto3_client=client("dynamodb")
        )
        config = IdempotencyConfig(
            event_key_jmespath="[operation, caller, key]",
            payload_validation_jmespath="body",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=settings().idempotency_ttl_seconds,
            response_hook=_mark_replayed,
        )

        @idempotent_function(
            data_keyword_argument="request",
            persistence_store=persistence,
            config=config,
            key_prefix=f"api.{operation}",
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

        _RUNNERS[operation] = (config, execute)
    return _RUNNERS[operation]


def _mark_replayed(response: Any, idempotent_data: Any) -> Any:
    return {**response, "replayed": True}


def reset() -> None:
    _RUNNERS.clear()
