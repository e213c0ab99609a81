"""Call HTTP functions in-process with real API Gateway REST events."""

from __future__ import annotations

import importlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from infra import catalog
from infra.local.apigw import build_rest_event, catalog_routes, cognito_claims, resolve
from tests.support.lambda_context import FakeLambdaContext
from tests.support.order_tokens import with_order_token

ROUTES = catalog_routes()


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    raw_body: str | None

    @property
    def body(self) -> Any:
        return json.loads(self.raw_body) if self.raw_body else None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


def handler_for(function_name: str) -> Any:
    return importlib.import_module(f"functions.{function_name}.app").handler


def _route_for(method: str, path: str) -> tuple[catalog.Function, dict[str, str]]:
    match = resolve(ROUTES, method, path)
    if match is None:
        raise AssertionError(f"no route for {method} {path}")
    return match.route.fn, match.parameters


def invoke_event(function_name: str, event: dict[str, Any]) -> ApiResponse:
    result = handler_for(function_name)(event, FakeLambdaContext(function_name=function_name))
    headers = dict(result.get("headers") or {})
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers.setdefault(key, values[-1])
    return ApiResponse(result["statusCode"], headers, result.get("body"))


def call(
    method: str,
    path: str,
    *,
    sub: str | None = "cus_alice",
    admin: bool = False,
    service: bool = False,
    order_token: bool = True,
    body: Any = None,
    raw_body: str | None = None,
    idempotency_key: str | bool | None = True,
    query: str = "",
    headers: dict[str, str] | None = None,
    source_ip: str = "127.0.0.1",
) -> ApiResponse:
    """One request through API Gateway's event shape to the function that owns the route.

    `idempotency_key=True` sends a fresh key on POST/PUT/DELETE; a string sends that key; None sends none.
    A customer's POST /payments whose body states an order gets that order's token, as a frontend gets
    it from the Order Service (`order_token=False`: the body goes as it is).
    """
    fn, params = _route_for(method, path)
    assert fn.route is not None
    if order_token and sub and not (admin or service) and (method, fn.route.path) == ("POST", "/payments"):
        body = with_order_token(body, sub)
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if idempotency_key is True:
        if method in ("POST", "PUT", "DELETE"):
            all_headers["Idempotency-Key"] = str(uuid.uuid4())
    elif isinstance(idempotency_key, str):
        all_headers["Idempotency-Key"] = idempotency_key
    payload = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    event = build_rest_event(
        method,
        fn.route.path,
        path,
        headers=all_headers,
        query=query,
        body=payload,
        claims=cognito_claims(sub, admin=admin, service=service) if sub else None,
        path_parameters=params,
        source_ip=source_ip,
    )
    return invoke_event(fn.name, event)
