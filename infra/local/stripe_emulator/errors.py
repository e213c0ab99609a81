"""Errors rendered exactly in Stripe's `{"error": {...}}` shape.

Only the keys that carry a value are emitted, as Stripe does: a 401 has just `message` and `type`,
a card decline adds `code`, `decline_code`, `charge`, `payment_intent` and `payment_method`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .model import Obj

_DOCS = "https://stripe.com/docs/error-codes/"


class ApiError(Exception):
    """A failure the emulator reports to the client the way Stripe would."""

    def __init__(
        self,
        status: int,
        error_type: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = dict(extra or {})

    def body(self, request_id: str | None = None) -> Obj:
        error: Obj = {
            "code": self.code,
            "decline_code": self.decline_code,
            "doc_url": _DOCS + self.code.replace("_", "-") if self.code else None,
            "message": self.message,
            "param": self.param,
            # Unauthenticated requests are not logged to any account's dashboard.
            "request_log_url": (
                f"https://dashboard.stripe.com/test/logs/{request_id}"
                if request_id and self.status != 401
                else None
            ),
            "type": self.error_type,
            **self.extra,
        }
        return {"error": {key: value for key, value in sorted(error.items()) if value is not None}}


def invalid_request(
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    status: int = 400,
    extra: Mapping[str, Any] | None = None,
) -> ApiError:
    return ApiError(status, "invalid_request_error", message, code=code, param=param, extra=extra)


def resource_missing(label: str, object_id: str, param: str, *, status: int = 404) -> ApiError:
    """`No such customer: 'cus_x'`: 404 for ids in the URL path, 400 for ids passed as parameters."""
    return invalid_request(
        f"No such {label}: '{object_id}'", code="resource_missing", param=param, status=status
    )


def unexpected_state(message: str, payment_intent: Obj | None = None) -> ApiError:
    extra = {"payment_intent": payment_intent} if payment_intent is not None else {}
    return invalid_request(message, code="payment_intent_unexpected_state", extra=extra)


def api_error(message: str) -> ApiError:
    return ApiError(500, "api_error", message)
