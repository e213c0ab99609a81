"""RFC 9457 problem details: the one shape of every error answer.

The resolver, the idempotency glue, the webhook, the local gateway and the deployed API's gateway
responses all build their bodies with `problem_body`, so a client parses one shape wherever an error
comes from.
"""

from __future__ import annotations

import json
from typing import Any

from payments.domain.errors import PaymentsError

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://docs.payments.example/problems/"


def problem_body(status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The problem document: `type` names the code under TYPE_BASE; `extra` adds members (None ones
    are left out)."""
    body: dict[str, Any] = {"type": TYPE_BASE + code, "title": title, "status": status, "detail": detail}
    body["code"] = code
    body.update({name: value for name, value in extra.items() if value is not None})
    return body


def error_body(error: PaymentsError) -> dict[str, Any]:
    return problem_body(error.status, error.code, error.title, error.detail, **error.extra)


def retry_after(error: PaymentsError) -> dict[str, str]:
    seconds = getattr(error, "retry_after_seconds", None)
    if seconds is None and error.status in (429, 503):
        seconds = 1
    return {"Retry-After": str(seconds)} if seconds is not None else {}


def proxy_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway proxy response (for answers made outside the resolver)."""
    content_type = PROBLEM_JSON if status >= 400 else "application/json"
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_type, **(headers or {})},
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def error_response(error: PaymentsError) -> dict[str, Any]:
    """A PaymentsError as a proxy response, with Retry-After where a retry is expected."""
    return proxy_response(error.status, error_body(error), retry_after(error))
