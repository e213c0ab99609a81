"""API Gateway REST proxy events, built the way API Gateway builds them (v1 payload, Cognito
authorizer claims). Used by the local gateway, the tests and the sample events in events/api/."""

from __future__ import annotations

import base64
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from infra import catalog
from infra.local.tokens import authorizer_claims, identity_claims


def build_rest_event(
    method: str,
    resource: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    query: str = "",
    body: bytes | str | None = None,
    claims: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """`resource` is the route template (/payments/{payment_id}); `path` the concrete path below the stage."""
    headers = dict(headers or {})
    raw = body.encode() if isinstance(body, str) else body
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "application/json")
    # As deployed: only the catalog's binary media types arrive base64-encoded; anything else is text.
    is_text = raw is None or not content_type.startswith(catalog.BINARY_MEDIA_TYPES)
    query_pairs = parse_qsl(query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for key, value in query_pairs:
        multi_query.setdefault(key, []).append(value)
    request_context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "local",
        "domainName": "localhost",
        "httpMethod": method,
        "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
        "path": f"/{catalog.API_STAGE}{path}",
        "protocol": "HTTP/1.1",
        "requestId": str(uuid.uuid4()),
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
        "requestTimeEpoch": int(time.time() * 1000),
        "resourceId": "local",
        "resourcePath": resource,
        "stage": catalog.API_STAGE,
    }
    if claims is not None:
        request_context["authorizer"] = {"claims": claims}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": request_context,
        "body": None
        if raw is None
        else (raw.decode(errors="replace") if is_text else base64.b64encode(raw).decode()),
        "isBase64Encoded": not is_text,
    }


def cognito_claims(sub: str, *, admin: bool = False, service: bool = False) -> dict[str, str]:
    """An access token's claims as a Cognito User Pool authorizer hands them to a REST API (all values
    strings): a person's (an admin's with the admin group), or a service's (client credentials)."""
    return authorizer_claims(identity_claims(sub, admin=admin, service=service))


# --------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class Route:
    fn: catalog.Function
    method: str
    template: str
    pattern: re.Pattern[str]


def catalog_routes() -> list[Route]:
    routes = []
    for fn in catalog.api_functions():
        assert fn.route is not None
        regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(fn.route.path)) + "$"
        routes.append(Route(fn, fn.route.method, fn.route.path, re.compile(regex)))
    return routes


@dataclass(frozen=True)
class Match:
    route: Route
    path: str  # below the stage, e.g. /payments/pay_123
    parameters: dict[str, str]  # decoded path parameters


def resolve(routes: list[Route], method: str, path: str) -> Match | None:
    """The route and its path parameters; None when the path or the method is unknown."""
    for route in routes:
        found = route.pattern.match(path)
        if found and route.method == method:
            return Match(route, path, {k: unquote(v) for k, v in found.groupdict().items()})
    return None
