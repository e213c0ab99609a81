"""Risk rules and blocklist helpers: the admin API through the real handlers on moto, and the risk table
as stored."""

from __future__ import annotations

from typing import Any

import boto3

from infra import catalog
from infra.local import resources
from tests.support.api import ApiResponse, call

ADMIN = "admin-1"
TABLE = resources.LOCAL_NAMES[catalog.RISK.name]


def admin(method: str, path: str, **kwargs: Any) -> ApiResponse:
    return call(method, path, sub=ADMIN, admin=True, **kwargs)


def items(prefix: str = "") -> list[dict[str, Any]]:
    """The risk table's items whose pk starts with `prefix`, as DynamoDB holds them."""
    found = boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
    return [item for item in found if item["pk"]["S"].startswith(prefix)]


def block(kind: str, value: str, idempotency_key: str | bool | None = True, **extra: Any) -> ApiResponse:
    """POST /risk/blocklist by the admin; `extra` goes into the body."""
    body = {"kind": kind, "value": value, "reason": "fraud ring", **extra}
    return admin("POST", "/risk/blocklist", body=body, idempotency_key=idempotency_key)


def risk_events(bus: Any) -> list[tuple[str, str]]:
    """(event_type, event_id) of every domain event on the bus, in order."""
    return [
        (e["detail"]["event_type"], e["detail"]["event_id"]) for e in bus.drain() if e["source"] == "payments"
    ]
