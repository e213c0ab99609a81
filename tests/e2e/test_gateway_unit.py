"""The gateway's request -> proxy event -> response mapping, in process with a fake function runtime."""

from __future__ import annotations

import base64
import json
import re
import threading
from typing import Any

import pytest

from infra.local.gateway import LocalGateway, Request
from infra.local.runtime import Invocation, InvocationError
from infra.local.tokens import issue_token

pytestmark = pytest.mark.e2e

SECRET = "unit-test-signing-key-long-enough-for-hs256"
OK = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"ok": true}'}


class FakeFunctions:
    def __init__(
        self, result: Any = None, error: InvocationError | None = None, missing: tuple[str, ...] = ()
    ) -> None:
        self.result = OK if result is None else result
        self.error = error
        self.missing = missing
        self.events: list[dict[str, Any]] = []

    def available(self, function: str) -> bool:
        return function not in self.missing

    def invoke(
        self,
        function: str,
        event: dict[str, Any],
        *,
        timeout_s: float | None = None,
        request_id: str | None = None,
    ) -> Invocation:
        self.events.append(event)
        if self.error:
            raise self.error
        return Invocation(function, request_id or "", self.result, 1.0, None)


def gateway(functions: FakeFunctions) -> tuple[LocalGateway, list[tuple[str, str, str]]]:
    lines: list[tuple[str, str, str]] = []
    return LocalGateway(functions, SECRET, None, lambda *line: lines.append(line)), lines


def bearer(sub: str = "alice", *, admin: bool = False) -> tuple[str, str]:
    return "Authorization", f"Bearer {issue_token(SECRET, sub, admin=admin)}"


def test_a_request_becomes_a_rest_proxy_event() -> None:
    functions = FakeFunctions()
    local, lines = gateway(functions)
    headers = [
        bearer("ops", admin=True),
        ("X-Tag", "a"),
        ("X-Tag", "b"),
        ("Content-Type", "application/json"),
    ]

    response = local.handle(Request("POST", "/v1/payments/pay%20x/capture?x=1&x=2", headers, b'{"a":1}'))

    event = functions.events[0]
    assert response.status == 200
    assert event["resource"] == "/payments/{payment_id}/capture"
    assert event["path"] == "/payments/pay%20x/capture"
    assert event["pathParameters"] == {"payment_id": "pay x"}
    assert event["queryStringParameters"] == {"x": "2"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert event["headers"]["X-Tag"] == "b"
    assert event["multiValueHeaders"]["X-Tag"] == ["a", "b"]
    assert event["body"] == '{"a":1}'
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert (context["stage"], context["path"]) == ("v1", "/v1/payments/pay%20x/capture")
    assert ("x-amzn-RequestId", context["requestId"]) in response.headers
    claims = context["authorizer"]["claims"]
    assert claims["sub"] == "ops"
    assert claims["cognito:groups"] == "payments-admin"
    assert (claims["token_use"], claims["scope"]) == ("access", "aws.cognito.signin.user.admin")
    assert re.fullmatch(r"\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}", claims["exp"])
    assert all(isinstance(value, str) for value in claims.values())
    assert lines[0][0] == "api"
    assert "POST /v1/payments/pay%20x/capture 200 capture_payment" in lines[0][1]


def test_a_raw_token_without_bearer_is_accepted_too() -> None:
    functions = FakeFunctions()
    token = issue_token(SECRET, "alice")

    response = gateway(functions)[0].handle(Request("GET", "/v1/payments", [("Authorization", token)]))

    assert response.status == 200


def test_bodies_arrive_as_text_like_the_deployed_api() -> None:
    """The deployed API declares no binary media types, so API Gateway never base64-encodes."""
    functions = FakeFunctions()
    data = '{"note": "caf\u00e9"}'.encode()

    gateway(functions)[0].handle(
        Request("POST", "/v1/payments", [bearer(), ("Content-Type", "application/octet-stream")], data)
    )

    assert functions.events[0]["isBase64Encoded"] is False
    assert functions.events[0]["body"].encode() == data


def test_the_webhook_has_no_authorizer_but_needs_its_signature_header() -> None:
    functions = FakeFunctions()
    local = gateway(functions)[0]

    unsigned = local.handle(Request("POST", "/v1/webhooks/stripe", [], b'{"id":"evt_1"}'))
    signed = local.handle(Request("POST", "/v1/webhooks/stripe", [("Stripe-Signature", "t=1,v1=ab")], b"{}"))

    assert unsigned.status == 400
    assert signed.status == 200
    assert "authorizer" not in functions.events[0]["requestContext"]


def test_a_function_not_written_yet_is_501() -> None:
    local, lines = gateway(FakeFunctions(missing=("refund_payment",)))

    response = local.handle(Request("POST", "/v1/payments/pay_1/refunds", [bearer(admin=True)], b"{}"))
    again = local.handle(Request("POST", "/v1/payments/pay_1/refunds", [bearer(admin=True)], b"{}"))

    body = json.loads(response.body)
    assert (response.status, again.status) == (501, 501)
    assert body["code"] == "not_implemented"
    assert "functions/refund_payment/app.py does not exist yet" in body["detail"]
    assert len(lines) == 1  # Stripe retries webhooks: one line per missing function is enough


@pytest.mark.parametrize(
    ("error", "status", "code", "detail"),
    [
        (InvocationError("error", "boom", "KeyError"), 502, "internal_error", "Internal server error"),
        (InvocationError("init", "failed to start"), 502, "internal_error", "Internal server error"),
        (InvocationError("timeout", "Task timed out"), 504, "timeout", "Endpoint request timed out"),
        (InvocationError("too_large", "too big"), 413, "request_too_large", "Request Too Long"),
    ],
)
def test_function_failures_become_gateway_problems(
    error: InvocationError, status: int, code: str, detail: str
) -> None:
    response = gateway(FakeFunctions(error=error))[0].handle(Request("GET", "/v1/payments", [bearer()]))

    body = json.loads(response.body)
    assert response.status == status
    assert (body["code"], body["detail"]) == (code, detail)
    assert ("Content-Type", "application/problem+json") in response.headers


def test_a_malformed_proxy_result_is_502() -> None:
    response = gateway(FakeFunctions(result={"body": "no status"}))[0].handle(
        Request("GET", "/v1/payments", [bearer()])
    )

    assert response.status == 502


def test_a_base64_result_is_decoded_and_multi_value_headers_kept() -> None:
    result = {
        "statusCode": 201,
        "headers": {"Content-Type": "application/octet-stream"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": base64.b64encode(b"\x00\x01").decode(),
        "isBase64Encoded": True,
    }

    response = gateway(FakeFunctions(result=result))[0].handle(Request("GET", "/v1/payments", [bearer()]))

    assert (response.status, response.body) == (201, b"\x00\x01")
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]


def test_an_oversized_body_is_refused_before_routing() -> None:
    response = gateway(FakeFunctions())[0].handle(Request("POST", "/v1/anything", [], too_large=True))

    assert response.status == 413


class BusyFunctions(FakeFunctions):
    """Every worker of the function is busy: an invocation waits until `free` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.free = threading.Event()

    def invoke(
        self,
        function: str,
        event: dict[str, Any],
        *,
        timeout_s: float | None = None,
        request_id: str | None = None,
    ) -> Invocation:
        self.free.wait()
        return super().invoke(function, event, timeout_s=timeout_s, request_id=request_id)


def test_waiting_for_a_busy_function_counts_toward_the_integration_timeout() -> None:
    functions = BusyFunctions()
    local = LocalGateway(functions, SECRET, None, lambda *_: None, integration_timeout_s=0.2)
    try:
        response = local.handle(Request("GET", "/v1/payments", [bearer()]))
    finally:
        functions.free.set()

    body = json.loads(response.body)
    assert response.status == 504
    assert (body["code"], body["detail"]) == ("timeout", "Endpoint request timed out")


class BrokenRuntime(FakeFunctions):
    def invoke(
        self,
        function: str,
        event: dict[str, Any],
        *,
        timeout_s: float | None = None,
        request_id: str | None = None,
    ) -> Invocation:
        raise OSError(11, "Resource temporarily unavailable")  # e.g. no worker process could be started


def test_a_runtime_that_cannot_invoke_answers_502_not_a_dropped_connection() -> None:
    local, lines = gateway(BrokenRuntime())

    response = local.handle(Request("GET", "/v1/payments", [bearer()]))

    assert response.status == 502
    assert json.loads(response.body)["code"] == "internal_error"
    assert "could not be invoked" in lines[0][1]


class FailingDocs:
    def document(self) -> bytes:
        raise RuntimeError("defect")


def test_a_defect_in_the_gateway_answers_500_not_a_dropped_connection() -> None:
    lines: list[tuple[str, str, str]] = []
    docs: Any = FailingDocs()
    local = LocalGateway(FakeFunctions(), SECRET, docs, lambda *line: lines.append(line))

    response = local.handle(Request("GET", "/v1/openapi.json", []))

    assert response.status == 500
    assert json.loads(response.body)["code"] == "internal_error"
    assert ("Content-Type", "application/problem+json") in response.headers
    assert "RuntimeError: defect" in lines[0][1]
