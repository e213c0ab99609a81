"""What the gateway refuses before a function runs, over HTTP on the running stack."""

from __future__ import annotations

import pytest

from infra.local.client import request
from infra.local.tokens import issue_token
from tests.e2e.frontend import Frontend

pytestmark = pytest.mark.e2e


def _assert_problem(result_status: int, body: dict[str, object], status: int, code: str, detail: str) -> None:
    assert result_status == status
    assert body["code"] == code
    assert body["detail"] == detail
    assert body["type"] == f"https://docs.payments.example/problems/{code}"
    assert body["request_id"]


def test_no_token_is_401(frontend: Frontend) -> None:
    answer = frontend.client(None).get("/payments")

    _assert_problem(answer.status, answer.json, 401, "unauthenticated", "Unauthorized")
    assert answer.header("x-amzn-ErrorType") == "UnauthorizedException"


def test_a_token_signed_with_another_key_is_401(frontend: Frontend) -> None:
    answer = frontend.client("alice", secret="some-other-signing-key-of-32-bytes!!").get("/payments")

    _assert_problem(answer.status, answer.json, 401, "unauthenticated", "Unauthorized")


def test_an_expired_token_is_401(frontend: Frontend) -> None:
    expired = issue_token(frontend.state.jwt_secret, "alice", ttl_seconds=-60)
    answer = request("GET", f"{frontend.state.api_url}/payments", headers={"Authorization": expired})

    _assert_problem(answer.status, answer.json, 401, "unauthenticated", "The incoming token has expired")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nothing-here"),
        ("DELETE", "/payments"),
        ("GET", "/"),
        ("TRACE", "/payments"),  # any method, not only those http.server knows
        ("QUERY", "/payments"),
    ],
)
def test_an_unknown_route_is_404_as_deployed(frontend: Frontend, method: str, path: str) -> None:
    answer = frontend.alice.call(method, path)

    _assert_problem(answer.status, answer.json, 404, "not_found", "Missing Authentication Token")


def test_a_path_outside_the_stage_is_forbidden(frontend: Frontend) -> None:
    answer = request("GET", frontend.state.api_url.removesuffix("/v1") + "/payments")

    assert answer.status == 403
    assert answer.json == {"message": "Forbidden"}


def test_a_body_over_10_mb_is_413(frontend: Frontend) -> None:
    body = b'{"padding":"' + b"x" * (10 * 1024 * 1024) + b'"}'
    answer = request(
        "POST",
        f"{frontend.state.api_url}/payments",
        body=body,
        headers={"Authorization": f"Bearer {frontend.alice.token}", "Content-Type": "application/json"},
    )

    _assert_problem(answer.status, answer.json, 413, "request_too_large", "Request Too Long")


def test_the_webhook_route_requires_a_stripe_signature(frontend: Frontend) -> None:
    answer = request("POST", f"{frontend.state.api_url}/webhooks/stripe", body=b"{}")

    _assert_problem(
        answer.status,
        answer.json,
        400,
        "validation_error",
        "Missing required request parameters: [Stripe-Signature]",
    )
