"""Typed errors. Each carries its machine-readable `code` and HTTP `status`; the HTTP layer renders
them as RFC 9457 problem details without ever matching on messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class PaymentsError(Exception):
    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = {k: v for k, v in extra.items() if v is not None}


class ValidationFailed(PaymentsError):
    code = "validation_error"
    status = 400
    title = "The request is invalid"

    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        self.errors = errors
        super().__init__(detail or "; ".join(f"{e.field}: {e.message}" for e in errors))
        self.extra["errors"] = [e.as_dict() for e in errors]
        if len(errors) == 1:
            self.extra["param"] = errors[0].field


class BadRequest(PaymentsError):
    """A request that is malformed as a whole; `code` is given per case."""

    status = 400
    title = "Bad request"

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.code = code  # type: ignore[misc]


class ProviderRejected(BadRequest):
    """The payment provider refused the request as invalid: nothing happened there."""


class CardDataNotAccepted(PaymentsError):
    code = "card_data_not_accepted"
    status = 400
    title = "Card data is not accepted"


class IdempotencyKeyMissing(PaymentsError):
    code = "idempotency_key_missing"
    status = 400
    title = "Idempotency-Key header is required"


class IdempotencyKeyInvalid(PaymentsError):
    """An Idempotency-Key that was sent but cannot be one: blank, or too long."""

    code = "idempotency_key_invalid"
    status = 400
    title = "Invalid Idempotency-Key header"


class UnsupportedMediaType(PaymentsError):
    code = "unsupported_media_type"
    status = 415
    title = "Unsupported media type"


class InvalidCursor(PaymentsError):
    code = "invalid_cursor"
    status = 400
    title = "Invalid cursor"


class Unauthenticated(PaymentsError):
    code = "unauthenticated"
    status = 401
    title = "Authentication required"


class CardDeclined(PaymentsError):
    code = "card_declined"
    status = 402
    title = "The card was declined"


class PaymentBlocked(PaymentsError):
    """Our risk checks refused the payment before it reached Stripe. `reasons` are the customer's
    (domain/risk.py customer_reasons); the back office reads every reason in the payment's `risk`."""

    code = "payment_blocked"
    status = 402
    title = "The payment was blocked"


class Forbidden(PaymentsError):
    code = "forbidden"
    status = 403
    title = "Not allowed"


class NotFound(PaymentsError):
    code = "not_found"
    status = 404
    title = "Not found"


class Conflict(PaymentsError):
    """The resource's state forbids the request; `code` says which rule."""

    status = 409
    title = "Conflict with the current state"

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.code = code  # type: ignore[misc]


class RequestInProgress(PaymentsError):
    code = "request_in_progress"
    status = 409
    title = "A request with this Idempotency-Key is in progress"
    retry_after_seconds = 2


class IdempotencyKeyReused(PaymentsError):
    code = "idempotency_key_reused"
    status = 422
    title = "Idempotency-Key reused with a different request"


class OrderTokenRejected(PaymentsError):
    """The order token cannot stand for this payment: `code` says why (order_token_invalid, _expired,
    _not_yet_valid, _issuer_unknown, _customer_mismatch, _mismatch). Nothing was stored or charged."""

    status = 422
    title = "The order token is not accepted"

    def __init__(self, code: str, detail: str, *, param: str = "order_token") -> None:
        super().__init__(detail, param=param)
        self.code = code  # type: ignore[misc]


class ConcurrentUpdate(PaymentsError):
    """Optimistic locking lost a race; the caller may retry (the HTTP layer answers 409)."""

    code = "concurrent_update"
    status = 409
    title = "The resource changed while the request ran"


class RateLimited(PaymentsError):
    code = "rate_limited"
    status = 429
    title = "Too many requests"


class ProviderError(PaymentsError):
    """The payment provider failed or could not be reached; nothing was decided."""

    code = "payment_provider_error"
    status = 502
    title = "The payment provider failed"


class ProviderUnavailable(PaymentsError):
    code = "payment_provider_unavailable"
    status = 503
    title = "The payment provider is unavailable"


class StoreUnavailable(PaymentsError):
    """Our database stayed busy (throttled, or conflicting transactions) after retries. Nothing was
    decided on our side: the same request may be retried and resumes where it stopped."""

    code = "store_unavailable"
    status = 503
    title = "The service is busy"
    retry_after_seconds = 1


class ProviderResponseIncomplete(ProviderError):
    """Stripe's answer lacks a money field we must not guess (e.g. amount_received on a success)."""

    code = "payment_provider_response_incomplete"


class IntentStateChanged(ProviderRejected):
    """Stripe refused an action on a PaymentIntent because its state moved on (another confirm, a
    capture, a cancel): read it again and apply what it is now."""


class OutcomeUnknown(PaymentsError):
    """Stripe cannot tell yet whether an earlier attempt reached it (its key is still in use there):
    nothing was decided; retry later with the same Idempotency-Key."""

    code = "payment_outcome_unknown"
    status = 503
    title = "The payment's outcome is not known yet"
    retry_after_seconds = 30


class EventsUnavailable(PaymentsError):
    """A change is stored, but its event could not be published: the same request, retried, publishes it."""

    code = "events_unavailable"
    status = 503
    title = "The change is stored but could not be announced"


class RiskHookFailed(PaymentsError):
    """The external risk hook did not give a verdict in time: `failure` is timeout, error (it could not
    be invoked, or its function raised) or bad_answer. The checks apply the hook's on_failure; should
    it ever reach a client, nothing was decided."""

    code = "risk_hook_failed"
    status = 502
    title = "The external risk check failed"

    def __init__(self, failure: str, detail: str) -> None:
        super().__init__(detail)
        self.failure = failure
