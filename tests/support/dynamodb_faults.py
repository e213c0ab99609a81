"""DynamoDB faults as the service meets them in production, injected into the real boto3 client."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse

from payments.adapters.aws import client


def cancel_transactions(times: int, reason: str = "TransactionConflict", after: int = 0) -> list[int]:
    """Let `after` TransactWriteItems calls through, then make the next `times` fail as DynamoDB
    cancels a transaction that met another one (or was throttled): every item's reason is `reason`,
    not a failed condition. Returns a list counting the injected failures."""
    failures: list[int] = []
    passed: list[int] = []

    def answer(params: dict[str, Any], **_: Any) -> Any:
        if len(passed) < after:
            passed.append(1)
            return None
        if len(failures) >= times:
            return None
        failures.append(1)
        count = len(json.loads(params["body"])["TransactItems"])
        parsed = {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
            "CancellationReasons": [{"Code": reason, "Message": "injected"}] * count,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("https://dynamodb.local", 400, {}, None), parsed

    client("dynamodb").meta.events.register("before-call.dynamodb.TransactWriteItems", answer)
    return failures


def refuse(operation: str, table: str, code: str = "AccessDeniedException") -> Callable[[], None]:
    """Refuse every `operation` (PutItem, ...) on `table` as DynamoDB refuses a call the caller's role
    may not make, until the returned function is called: a fault that lasts until someone fixes it."""
    lifted: list[bool] = []

    def answer(params: dict[str, Any], **_: Any) -> Any:
        if lifted or json.loads(params["body"]).get("TableName") != table:
            return None
        message = f"not authorized to perform dynamodb:{operation} on table {table} (injected)"
        parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}}
        return AWSResponse("https://dynamodb.local", 400, {}, None), parsed

    client("dynamodb").meta.events.register(f"before-call.dynamodb.{operation}", answer)
    return lambda: lifted.append(True)
