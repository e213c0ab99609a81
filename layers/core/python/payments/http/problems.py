"""RFC 9457 problem details: the one place where errors become HTTP responses."""

from __future__ import annotations

import json
from typing import Any

from payments.domain.errors import PaymentsError

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://docs.payments.example/problems/"


def problem_body(error: PaymentsError) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + error.code,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
    }
    body.update(error.extra)
    return body


def problem(
    status: int, code: str, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    """A problem response in API Gateway proxy form (for errors raised outside the resolver)."""
    body = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return {
        "statusCode": status,
        "headers": {"Content-Type": PROBLEM_JSON, **(headers or {})},
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def retry_after(error: PaymentsError) -> dict[str, str]:
    seconds = getattr(error, "retry_after_seconds", None)
    if seconds is None and error.status in (429, 503):
        seconds = 1
    return {"Retry-After": str(seconds)} if seconds is not None else {}
