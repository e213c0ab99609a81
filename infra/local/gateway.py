"""The local API Gateway: the deployed REST API's behaviour in front of the functions.

- every catalog route under the stage prefix `/v1`, as a Lambda proxy integration: a real REST proxy
  event (v1 payload: headers, multi-value headers, path and query parameters, base64 bodies for
  non-text content types) built by `infra.local.apigw`;
- the Cognito authorizer: a local HS256 token (infra/local/tokens.py), 401 when missing, malformed,
  expired or signed with another key; its claims, as strings, in `requestContext.authorizer.claims`;
- the webhook route's required `Stripe-Signature` header (the request validator), no authorizer;
- API Gateway's limits: 10 MB request bodies (413), Lambda's 6 MB payloads, the 29 s integration timeout
  (504), counted from the moment the request is routed: time spent waiting for a free worker when all of
  a function's workers are busy, and a cold start, count as they do in AWS;
- the deployed API's gateway responses (infra/catalog.py's, as infra/aws/api.py deploys them):
  problem+json bodies from payments.http.problems. An unknown path or method is a 404 `not_found`
  problem, as deployed (raw API Gateway would say 403 "Missing Authentication Token"; the stack's
  gateway response turns it into a 404);
- local only: a catalog route whose function is not written yet answers 501 `not_implemented`, and
  /v1/openapi.json and /v1/docs (Swagger UI) document the API; `/_local/lambda` is the Lambda API's
  Invoke and GetFunctionConfiguration for the operator tools (infra/local/lambda_api.py); /console/ and
  /checkout/ are the pages of web/ (infra/local/web.py), and `/_local/sign-in`, `/_local/orders`,
  `/_local/order-token` their local sign-in and sample orders (infra/local/sign_in.py).

Every request gets an HTTP answer: a failure of the local runtime itself (a worker that cannot be started)
is a 502, a defect of the gateway a 500, never a dropped connection. It serves on infra/local/loopback.py
(one daemon thread per connection, a listen backlog deep enough for bursts of concurrent clients).
"""

from __future__ import annotations

import base64
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from traceback import format_exception_only
from typing import Any, Protocol

from infra import catalog
from infra.local import lambda_api, sign_in, web
from infra.local.apigw import Match, Route, build_rest_event, catalog_routes, resolve
from infra.local.docs import ApiDocs
from infra.local.loopback import LoopbackHandler, LoopbackServer, RequestLine
from infra.local.runtime import PAYLOAD_LIMIT, Invocation, InvocationError
from infra.local.tokens import TokenRejected, authorizer_claims, verify_token
from payments.http.problems import PROBLEM_JSON, problem_body

MAX_BODY_BYTES = 10 * 1024 * 1024
INTEGRATION_TIMEOUT_S = 29.0
STAGE = f"/{catalog.API_STAGE}"
SIGNATURE_HEADER = "Stripe-Signature"
HEALTH_PATH = "/_local/health"  # local only, outside the stage

# The deployed API's gateway responses that this gateway answers with.
UNAUTHORIZED = catalog.gateway_response("UNAUTHORIZED")
MISSING_AUTHENTICATION_TOKEN = catalog.gateway_response("MISSING_AUTHENTICATION_TOKEN")
BAD_REQUEST_PARAMETERS = catalog.gateway_response("BAD_REQUEST_PARAMETERS")
REQUEST_TOO_LARGE = catalog.gateway_response("REQUEST_TOO_LARGE")
INTEGRATION_TIMEOUT = catalog.gateway_response("INTEGRATION_TIMEOUT")
DEFAULT_5XX = catalog.gateway_response("DEFAULT_5XX")
GATEWAY_PROBLEMS = (
    UNAUTHORIZED,
    MISSING_AUTHENTICATION_TOKEN,
    BAD_REQUEST_PARAMETERS,
    REQUEST_TOO_LARGE,
    INTEGRATION_TIMEOUT,
    DEFAULT_5XX,
)
NOT_IMPLEMENTED = catalog.GatewayResponse(
    "LOCAL_NOT_IMPLEMENTED", 501, "not_implemented", "Not implemented yet"
)


class Invoker(Protocol):
    """The function runtime as the gateway calls it (infra/local/runtime.py's FunctionPool)."""

    def available(self, function: str) -> bool: ...

    def invoke(
        self, function: str, event: dict[str, Any], *, timeout_s: float, request_id: str
    ) -> Invocation: ...


@dataclass(frozen=True)
class Request(RequestLine):
    headers: list[tuple[str, str]]
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    too_large: bool = False  # the body was over the limit and was not kept

    def header(self, name: str) -> str | None:
        return next((v for k, v in reversed(self.headers) if k.lower() == name.lower()), None)


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    # For the log line.
    function: str | None = None
    note: str = ""


def problem(
    kind: catalog.GatewayResponse, detail: str, request_id: str, status: int | None = None
) -> Response:
    """The body infra/aws/api.py's gateway response templates produce; `status` where API Gateway keeps
    its own (DEFAULT_5XX)."""
    answered = kind.status or status or 500
    body = problem_body(answered, kind.code, kind.title, detail, request_id=request_id)
    if kind.status is None:
        del body["status"]  # as deployed: API Gateway's own 5xx answer has no status member
    headers = [("Content-Type", PROBLEM_JSON)]
    if kind.error_type:
        headers.append(("x-amzn-ErrorType", kind.error_type))
    return Response(answered, json.dumps(body).encode(), headers)


LogLine = Callable[[str, str, str], None]  # (tag, message, level)


class LocalGateway:
    def __init__(
        self,
        invoker: Invoker,
        jwt_secret: str,
        docs: ApiDocs | None,
        log: LogLine,
        *,
        integration_timeout_s: float = INTEGRATION_TIMEOUT_S,
        lambda_functions: lambda_api.LocalLambdaApi | None = None,
        site: web.LocalSite | None = None,
    ) -> None:
        self._invoker = invoker
        self._lambda = lambda_functions
        self._site = site
        self._sign_in = sign_in.LocalSignIn(jwt_secret) if site is not None else None
        self._jwt_secret = jwt_secret
        self._docs = docs
        self._log = log
        self._integration_timeout_s = integration_timeout_s
        self._routes = catalog_routes()
        self._reported_missing: set[str] = set()  # Stripe retries each webhook: one 501 line is enough

    def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        try:
            response = self._respond(request, request_id)
        except Exception as error:  # a defect here must still answer, as API Gateway's own 500 does
            response = problem(DEFAULT_5XX, "Internal server error", request_id, status=500)
            response.note = "local gateway error: " + "".join(format_exception_only(error)).strip()
        response.headers += [("x-amzn-RequestId", request_id), ("x-amz-apigw-id", request_id[:16])]
        self._log_request(request, response, (time.perf_counter() - started) * 1000)
        return response

    def _respond(self, request: Request, request_id: str) -> Response:
        path = request.path
        if path == "/":
            return Response(302, headers=[("Location", f"{STAGE}/docs")])
        if path == HEALTH_PATH:
            return Response(200, b'{"status":"ok"}', [("Content-Type", "application/json")])
        if self._lambda is not None and lambda_api.handles(path):
            answer = self._lambda.answer(request.method, path, dict(request.headers), request.body)
            return Response(answer.status, answer.body, answer.headers, answer.function, answer.note)
        if self._site is not None and web.handles(path):
            page = self._site.answer(request.method, path, request.header("Host"))
            return Response(page.status, page.body, page.headers)
        if self._sign_in is not None and sign_in.handles(path):
            headers = {name.lower(): value for name, value in request.headers}
            local = self._sign_in.answer(request.method, path, headers, request.body)
            return Response(local.status, local.body, local.headers)
        if path != STAGE and not path.startswith(STAGE + "/"):
            # No stage matched: API Gateway answers before any of the API's gateway responses apply.
            return Response(403, b'{"message":"Forbidden"}', [("Content-Type", "application/json")])
        resource_path = path[len(STAGE) :] or "/"
        if request.method == "GET":
            served = self._serve_docs(resource_path)
            if served is not None:
                return served
        if request.too_large:
            return problem(REQUEST_TOO_LARGE, "Request Too Long", request_id)
        match = resolve(self._routes, request.method, resource_path)
        if match is None:
            response = problem(MISSING_AUTHENTICATION_TOKEN, "Missing Authentication Token", request_id)
            response.note = "no such route"
            return response
        return self._integrate(request, request_id, match)

    def _integrate(self, request: Request, request_id: str, match: Match) -> Response:
        route = match.route
        claims: dict[str, str] | None = None
        if route.fn.route and route.fn.route.authorizer:
            try:
                claims = authorizer_claims(verify_token(self._jwt_secret, request.header("Authorization")))
            except TokenRejected as rejected:
                return problem(UNAUTHORIZED, str(rejected), request_id)
        elif not request.header(SIGNATURE_HEADER):
            return problem(
                BAD_REQUEST_PARAMETERS,
                f"Missing required request parameters: [{SIGNATURE_HEADER}]",
                request_id,
            )
        if not self._invoker.available(route.fn.name):
            return self._not_implemented(route, request_id)
        event = proxy_event(request, request_id, match, claims)
        try:
            invocation = self._invoke(route, event, request_id)
        except InvocationError as error:
            return self._failed(route, request_id, error)
        response = _proxy_response(invocation.result, request_id)
        response.function = route.fn.name
        if claims:
            response.note = f"sub={claims.get('sub')}"
        if invocation.init_ms is not None:
            response.note += f" (cold start {invocation.init_ms:.0f} ms)"
        return response

    def _invoke(self, route: Route, event: dict[str, Any], request_id: str) -> Invocation:
        """The invocation's answer within the integration timeout, counted from now: a request that waits
        for one of the function's workers (all busy) or for a cold start spends its own budget, as in AWS.
        Past it the client gets a 504 and the invocation finishes unobserved, as a Lambda's does."""
        outcome: queue.Queue[Invocation | BaseException] = queue.Queue(maxsize=1)

        def run() -> None:
            try:
                outcome.put(
                    self._invoker.invoke(
                        route.fn.name,
                        event,
                        timeout_s=min(route.fn.timeout_s, self._integration_timeout_s),
                        request_id=request_id,
                    )
                )
            except InvocationError as error:
                outcome.put(error)
            except Exception as error:  # the runtime could not run it (e.g. no worker process could start)
                kind = "".join(format_exception_only(error)).strip()
                outcome.put(InvocationError("init", f"the function could not be invoked: {kind}"))

        threading.Thread(target=run, name=f"invoke {route.fn.name} {request_id}", daemon=True).start()
        try:
            result = outcome.get(timeout=self._integration_timeout_s)
        except queue.Empty:
            raise InvocationError(
                "timeout", f"no answer within the {self._integration_timeout_s:g} s integration timeout"
            ) from None
        if isinstance(result, BaseException):
            raise result
        return result

    def _not_implemented(self, route: Route, request_id: str) -> Response:
        detail = (
            f"{route.method} {STAGE}{route.template} is in the catalog, but functions/{route.fn.name}/app.py "
            "does not exist yet"
        )
        response = problem(NOT_IMPLEMENTED, detail, request_id)
        response.function, response.note = route.fn.name, "not implemented yet"
        return response

    def _failed(self, route: Route, request_id: str, error: InvocationError) -> Response:
        if error.kind == "missing":
            return self._not_implemented(route, request_id)
        if error.kind == "timeout":
            response = problem(INTEGRATION_TIMEOUT, "Endpoint request timed out", request_id)
        elif error.kind == "too_large":
            response = problem(REQUEST_TOO_LARGE, "Request Too Long", request_id)
        else:  # the function raised or could not start: API Gateway answers 502
            response = problem(DEFAULT_5XX, "Internal server error", request_id, status=502)
        response.function = route.fn.name
        response.note = f"{error.error_type + ': ' if error.error_type else ''}{error}"
        return response

    def _serve_docs(self, path: str) -> Response | None:
        if self._docs is None:
            return None
        if path == "/openapi.json":
            return Response(200, self._docs.document(), [("Content-Type", "application/json")])
        if path in ("/docs", "/docs/"):
            return Response(200, self._docs.page(), [("Content-Type", "text/html; charset=utf-8")])
        if path == "/docs/openapi-3.0.json":
            return Response(200, self._docs.swagger_document(), [("Content-Type", "application/json")])
        if path.startswith("/docs/"):
            asset = self._docs.asset(path.removeprefix("/docs/"))
            if asset is not None:
                return Response(
                    200, asset[0], [("Content-Type", asset[1]), ("Cache-Control", "max-age=3600")]
                )
        return None

    def _log_request(self, request: Request, response: Response, elapsed_ms: float) -> None:
        if request.path == HEALTH_PATH:
            return  # polled by launchers: not worth a line
        if response.status == 501 and response.function:
            if response.function in self._reported_missing:
                return
            self._reported_missing.add(response.function)
            response.note += " (further requests to it are not logged)"
        webhook = request.path.endswith("/webhooks/stripe")
        parts = [f"{request.method} {request.path}", str(response.status)]
        if response.function:
            parts.append(response.function)
        if webhook:
            parts.append(_webhook_summary(request.body))
        parts.append(f"{elapsed_ms:.0f} ms")
        if response.note:
            parts.append(response.note.strip())
        level = "warn" if response.status == 501 else "error" if response.status >= 500 else "info"
        tag = "webhook" if webhook else "lambda" if lambda_api.handles(request.path) else "api"
        if web.handles(request.path) or sign_in.handles(request.path):
            tag = "web"
        self._log(tag, " ".join(p for p in parts if p), level)


def proxy_event(
    request: Request, request_id: str, match: Match, claims: dict[str, str] | None
) -> dict[str, Any]:
    """The Lambda proxy event API Gateway would send for this request."""
    event = build_rest_event(
        request.method,
        match.route.template,
        match.path,
        headers=dict(request.headers),  # `headers` keeps the last value of a repeated header
        query=request.query,
        body=request.body or None,
        claims=claims,
        path_parameters=match.parameters,
        source_ip=request.source_ip,
    )
    multi: dict[str, list[str]] = {}
    for name, value in request.headers:
        multi.setdefault(name, []).append(value)
    event["multiValueHeaders"] = multi or None
    event["requestContext"]["requestId"] = request_id
    return event


def _webhook_summary(body: bytes) -> str:
    try:
        event = json.loads(body)
        return f"{event.get('type')} {event.get('id')}"
    except (ValueError, AttributeError):
        return ""


def _proxy_response(result: Any, request_id: str) -> Response:
    """A Lambda proxy result as API Gateway turns it into HTTP; malformed ones are a 502."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        response = problem(DEFAULT_5XX, "Internal server error", request_id, status=502)
        response.note = "malformed Lambda proxy response"
        return response
    body = result.get("body") or ""
    if len(json.dumps(result)) > PAYLOAD_LIMIT:
        response = problem(DEFAULT_5XX, "Internal server error", request_id, status=502)
        response.note = "response payload over Lambda's 6 MB limit"
        return response
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(str(name), str(v)) for v in values if (str(name), str(v)) not in headers]
    return Response(result["statusCode"], data, headers)


# --------------------------------------------------------------------------- HTTP server


# A keep-alive connection that sends nothing for this long is closed (its thread ends with it).
IDLE_CONNECTION_TIMEOUT_S = 120.0


class GatewayServer(LoopbackServer):
    def __init__(self, host: str, port: int, gateway: LocalGateway) -> None:
        self.gateway = gateway
        super().__init__(host, port, _Handler)


_DRAIN_LIMIT = 64 * 1024 * 1024  # past this, an oversized body is not read at all: the connection closes


class _Handler(LoopbackHandler):
    protocol_version = "HTTP/1.1"
    server_version = "local-apigateway"
    timeout = IDLE_CONNECTION_TIMEOUT_S
    server: GatewayServer

    def __getattr__(self, name: str) -> Callable[[], None]:
        """Every other method (PUT, PATCH, HEAD, TRACE, QUERY, PROPFIND, ...) goes through the gateway too,
        which answers it as deployed (no such route: 404) instead of http.server's own 501 HTML page."""
        if name.startswith("do_"):
            return self.serve
        raise AttributeError(name)

    def handle_expect_100(self) -> bool:
        if self.declared_length() > MAX_BODY_BYTES:  # refuse before the client sends the body
            self._answer(self._request(b"", too_large=True))
            self.close_connection = True
            return False
        return super().handle_expect_100()

    def serve(self) -> None:
        length = self.declared_length()
        too_large = length > MAX_BODY_BYTES
        if too_large:
            self._discard(length)
            self.close_connection = True
        body = b"" if too_large else self.rfile.read(length)
        self._answer(self._request(body, too_large))

    def _request(self, body: bytes, too_large: bool) -> Request:
        headers = [(name, value) for name, value in self.headers.items()]
        return Request(self.command, self.path, headers, body, self.client_address[0], too_large)

    def _answer(self, request: Request) -> None:
        response = self.server.gateway.handle(request)
        self.send(response.status, response.headers, response.body)

    def _discard(self, length: int) -> None:
        remaining = min(length, _DRAIN_LIMIT)
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                return
            remaining -= len(chunk)
