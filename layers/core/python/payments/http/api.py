"""API glue shared by every HTTP function: the resolver with our error mapping, the Lambda entry
point (guards, admin-only routes, correlation id, metrics, tracing), the caller, idempotent commands
and JSON answers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths

from payments import services
from payments.application.commit import Store
from payments.application.ports import PaymentGateway
from payments.application.queries import payment_for
from payments.domain.errors import FieldError, PaymentsError, ValidationFailed
from payments.domain.ids import request_fingerprint
from payments.domain.payment import Payment
from payments.http import idempotency
from payments.http.auth import Caller, authorize_route, caller_from_event
from payments.http.guards import MAX_BODY_BYTES, guard_request
from payments.http.idempotency import ApiResult
from payments.http.pagination import Paging, binding_for
from payments.http.problems import PROBLEM_JSON, error_body, error_response, problem_body, retry_after
from payments.http.schemas import payment_resource
from payments.observability import logger, metrics
from payments.snapstart import entry_point

JSON = "application/json"
STAGE_PREFIX = "/v1"


def create_app() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True, strip_prefixes=[STAGE_PREFIX])

    @app.exception_handler(PaymentsError)
    def _known(error: PaymentsError) -> Response[Any]:
        if error.status >= 500:
            logger.warning("request failed", extra={"code": error.code, "status": error.status})
        return problem_response(error)

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response[Any]:
        return problem_response(ValidationFailed(field_errors(error.errors())))

    @app.not_found
    def _no_route(_: Exception) -> Response[Any]:
        body = problem_body(404, "not_found", "Not found", "no such route")
        return Response(404, PROBLEM_JSON, json.dumps(body))

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[Any]:
        # Logged with its stack for us; the client gets nothing internal.
        logger.exception("unhandled error")
        detail = "an unexpected error occurred; it has been logged"
        body = problem_body(500, "internal_error", "Internal error", detail)
        return Response(500, PROBLEM_JSON, json.dumps(body))

    return app


def field_errors(errors: Any) -> list[FieldError]:
    """Pydantic's errors as field paths and messages; the rejected values are never echoed."""
    result = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        message = error.get("msg", "invalid")
        if error.get("type") == "extra_forbidden":
            message = "unknown field"
        result.append(FieldError(".".join(location) or "body", message))
    return result


def problem_response(error: PaymentsError) -> Response[Any]:
    return Response(error.status, PROBLEM_JSON, json.dumps(error_body(error)), headers=retry_after(error))


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(status, JSON, json.dumps(body), headers=headers or {})


def result_response(result: ApiResult) -> Response[Any]:
    headers = dict(result.headers)
    content_type = headers.pop("Content-Type", JSON)
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    if result.body is None:
        # No body, no Content-Type (a JSON one would make the resolver send `null`, e.g. on a 204).
        return Response(result.status, None, None, headers=headers)
    return Response(result.status, content_type, json.dumps(result.body), headers=headers)


def caller(app: APIGatewayRestResolver) -> Caller:
    return caller_from_event(app.current_event.raw_event)


def paging(who: Caller, **query: Any) -> Paging:
    """The cursors of a list query by `who` (the query's parameters bind them, the cursor aside)."""
    return Paging(services.cursor_key(), binding_for(who.sub, **query))


@dataclass(frozen=True)
class Command:
    """What every command knows of its request, taken one way for all of them."""

    caller: Caller
    idempotency_key: str | None  # None only on a DELETE sent without one
    fingerprint: str  # of the JSON body as sent: a reused key with another body is refused


def idempotent_command(
    app: APIGatewayRestResolver, operation: str, who: Caller, produce: Callable[[Command], ApiResult]
) -> Response[Any]:
    """Run a POST/DELETE command under the caller's Idempotency-Key and answer its (first) result.

    The key's record is bound to the operation, the resource and the body: the same key sent for
    another payment, card or route is refused (422), a true retry replays the first answer. A DELETE
    may come without a key (it is optional there): it then simply runs."""
    event = app.current_event
    header = event.headers.get("idempotency-key")
    body = event.json_body if event.body else None
    fingerprint = request_fingerprint(body)
    if header is None and event.http_method == "DELETE":
        return result_response(produce(Command(who, None, fingerprint)))
    key = idempotency.require_key(header, method=event.http_method)
    result = idempotency.run_idempotent(
        operation,
        who,
        key,
        body,
        lambda: produce(Command(who, key, fingerprint)),
        resource=resource_path(event.raw_event),
        lambda_context=app.lambda_context,
    )
    return result_response(result)


def payment_command(
    app: APIGatewayRestResolver,
    operation: str,
    payment_id: str,
    act: Callable[[Payment, Store, PaymentGateway], Payment],
) -> Response[Any]:
    """A command on one payment the caller may see (capture, cancel): `act` on it, answer the payment."""
    who = caller(app)

    def run(_: Command) -> ApiResult:
        store = services.store()
        payment = payment_for(store.payments, payment_id, viewer=who.sub, admin=who.is_admin)
        return ApiResult(200, payment_resource(act(payment, store, services.gateway()), admin=who.is_admin))

    return idempotent_command(app, operation, who, run)


_PATH_PARAMETER = re.compile(r"\{([^{}]+?)\+?\}")


def resource_path(event: dict[str, Any]) -> str:
    """The request's resource below the stage: the route's template with its path parameters
    (/payments/pay_1/capture), the same whichever host name or base path the request came through."""
    template = event.get("resource")
    parameters = event.get("pathParameters") or {}
    if isinstance(template, str) and template:
        return _PATH_PARAMETER.sub(lambda m: str(parameters.get(m.group(1), m.group(0))), template)
    path = str(event.get("path") or "")
    return path[len(STAGE_PREFIX) :] if path.startswith(STAGE_PREFIX + "/") else path


def lambda_handler(
    app: APIGatewayRestResolver, *, max_body_bytes: int = MAX_BODY_BYTES
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The function's entry point: guards run on the raw event before anything parses or logs it.
    `max_body_bytes`: the route's body limit, where it takes more than the guards' default."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @metrics.log_metrics(raise_on_empty_metrics=False)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        _lowercase_headers(event)
        try:
            request = guard_request(event, max_body_bytes)
            authorize_route(event)
        except PaymentsError as error:
            return error_response(error)
        if request.has_body:
            # Any JSON media type the guard accepted is JSON to the resolver (it reads application/json).
            _set_header(event, "content-type", JSON)
        else:
            # Nothing but whitespace is no body, whatever its Content-Type said.
            event["body"], event["isBase64Encoded"] = None, False
            _set_header(event, "content-type", None)
        return app.resolve(event, context)

    return entry_point(handler)


def _set_header(event: dict[str, Any], name: str, value: str | None) -> None:
    """Sets (or, with None, removes) a header whose name _lowercase_headers lower-cased."""
    headers = event.get("headers")
    multi = event.get("multiValueHeaders")
    for found in (headers, multi):
        if isinstance(found, dict):
            found.pop(name, None)
    if value is None:
        return
    event["headers"] = {**(headers if isinstance(headers, dict) else {}), name: value}
    if isinstance(multi, dict):
        multi[name] = [value]


def _lowercase_headers(event: dict[str, Any]) -> None:
    """HTTP header names are case-insensitive; API Gateway passes them as the client sent them."""
    for field_name in ("headers", "multiValueHeaders"):
        headers = event.get(field_name)
        if headers:
            event[field_name] = {str(k).lower(): v for k, v in headers.items()}
