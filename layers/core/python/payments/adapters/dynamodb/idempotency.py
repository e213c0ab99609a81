"""The Powertools idempotency utility over the idempotency table: the one runner behind the API's
Idempotency-Key records and the webhook's dedupe on Stripe's event id.

A record holds the action's result once it succeeded. An action that raises deletes its record
(Powertools does that on an exception), so nothing remembers a failure and a retry runs it again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from payments.adapters.aws import client
from payments.domain.errors import IdempotencyKeyReused, RequestInProgress

Result = dict[str, Any]


class IdempotentRunner:
    """Runs an action once per key of its request data; a repeat gets the first result back.

    `key_path` and `validation_path` are JMESPath expressions on the request data: the first names the
    record, the second what a repeat must match (a mismatch raises IdempotencyKeyReused)."""

    def __init__(
        self,
        table: str,
        *,
        key_prefix: str,
        key_path: str,
        expires_after_seconds: int,
        validation_path: str | None = None,
        busy: str = "this request is still running; retry shortly",
        reused: str = "this key was already used for another request",
    ) -> None:
        self.table = table
        self.key_prefix = key_prefix
        self.key_path = key_path
        self.validation_path = validation_path
        self.expires_after_seconds = expires_after_seconds
        self.busy = busy
        self.reused = reused
        self._built: tuple[Any, Callable[..., Result]] | None = None

    def run(
        self, request: Result, action: Callable[[], Result], lambda_context: Any = None
    ) -> tuple[Result, bool]:
        """`action`'s result, and whether it is a replay of an earlier run's."""
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyValidationError,
        )

        config, execute = self._build()
        if lambda_context is not None:
            # An in-progress record then expires with its invocation, so a crashed attempt can be retried.
            config.register_lambda_context(lambda_context)
        try:
            result = execute(request=request, action=action)
        except IdempotencyAlreadyInProgressError:
            raise RequestInProgress(self.busy) from None
        except IdempotencyValidationError:
            raise IdempotencyKeyReused(self.reused) from None
        replayed = bool(result.pop(_REPLAYED, False))
        return result, replayed

    def _build(self) -> tuple[Any, Callable[..., Result]]:
        if self._built is None:
            from aws_lambda_powertools.utilities.idempotency import (
                DynamoDBPersistenceLayer,
                IdempotencyConfig,
                idempotent_function,
            )

            persistence = DynamoDBPersistenceLayer(table_name=self.table, boto3_client=client("dynamodb"))
            config = IdempotencyConfig(
                event_key_jmespath=self.key_path,
                payload_validation_jmespath=self.validation_path or "",
                raise_on_no_idempotency_key=True,
                expires_after_seconds=self.expires_after_seconds,
                response_hook=lambda response, _: {**response, _REPLAYED: True},
            )

            @idempotent_function(
                data_keyword_argument="request",
                persistence_store=persistence,
                config=config,
                key_prefix=self.key_prefix,
            )
            def execute(request: Result, action: Callable[[], Result]) -> Result:
                return action()

            self._built = (config, execute)
        return self._built


_REPLAYED = "_replayed"


class EventIdDedupe:
    """The Deduplicator port: one record per Stripe event id, kept `expires_after_seconds`."""

    def __init__(self, table: str, expires_after_seconds: int) -> None:
        self._runner = IdempotentRunner(
            table,
            key_prefix="stripe.webhook",
            key_path="id",
            expires_after_seconds=expires_after_seconds,
            busy="this event is being forwarded by another delivery",
        )

    def first_time(self, key: str, action: Callable[[], None], lambda_context: Any = None) -> bool:
        def forward() -> Result:
            action()
            return {"forwarded": True}

        _, replayed = self._runner.run({"id": key}, forward, lambda_context)
        return not replayed
